// Typed Drizzle use of the schema that `reconcile codegen drizzle` wrote from
// the repository's schema/ (copied beside this file as shared/schema.ts):
// compiled with `tsc --strict`, then run by drizzle.test.mjs against the
// database `reconcile apply` built. One insert and one select per table.
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/node-postgres";
import pg from "pg";
import * as s from "./shared/schema.js";

/** Insert a row into every table, select it back; the rows selected, by table. */
export async function insertAndSelectEveryTable(url: string): Promise<Record<string, number>> {
  const pool = new pg.Pool({ connectionString: url });
  const db = drizzle(pool);
  try {
    const [tenant] = await db.insert(s.tenants).values({ name: "Main Street Clinic", slug: "main-street" }).returning();
    const [lead] = await db
      .insert(s.leads)
      .values({ tenantId: tenant.id, phone: "+15551230001", name: "Ada", tags: ["new-patient"] })
      .returning();
    const [conversation] = await db
      .insert(s.conversations)
      .values({ tenantId: tenant.id, leadId: lead.id, channel: "sms", transcript: [{ role: "caller", text: "hi" }] })
      .returning();
    const [call] = await db
      .insert(s.callLogs)
      .values({
        tenantId: tenant.id,
        conversationId: conversation.id,
        callSid: "CA" + "0".repeat(32),
        fromNumber: "+15551230001",
        toNumber: "+15551239999",
        direction: "outbound",
        price: "0.42",
      })
      .returning();
    await db.insert(s.alerts).values({ tenantId: tenant.id, callLogId: call.id, severity: "critical", kind: "missed_call", message: "call back" });
    await db
      .insert(s.appointments)
      .values({ tenantId: tenant.id, leadId: lead.id, phone: lead.phone, startsAt: new Date("2030-01-02T09:30:00Z"), status: "confirmed" });
    await db.insert(s.phoneMap).values({ twilioNumber: "+15551239999", tenantId: tenant.id, label: "Front desk" });
    await db.insert(s.smsTemplates).values({ tenantId: tenant.id, key: "appointment_reminder", body: "See you at {{starts_at}}" });

    const counts: Record<string, number> = {};
    counts.tenants = (await db.select().from(s.tenants).where(eq(s.tenants.slug, "main-street"))).length;
    counts.leads = (await db.select().from(s.leads).where(eq(s.leads.tenantId, tenant.id))).length;
    const conversations = await db.select().from(s.conversations).where(eq(s.conversations.id, conversation.id));
    counts.conversations = conversations.length;
    if (conversations[0]?.channel !== "sms") throw new Error("the enum value did not round-trip");
    counts.call_logs = (await db.select().from(s.callLogs).where(eq(s.callLogs.callSid, call.callSid))).length;
    counts.alerts = (await db.select().from(s.alerts).where(eq(s.alerts.callLogId, call.id))).length;
    const appointments = await db.select().from(s.appointments).where(eq(s.appointments.leadId, lead.id));
    counts.appointments = appointments.length;
    if (appointments[0]?.attempts !== 0) throw new Error("the column default did not apply");
    counts.phone_map = (await db.select().from(s.phoneMap).where(eq(s.phoneMap.tenantId, tenant.id))).length;
    counts.sms_templates = (await db.select().from(s.smsTemplates).where(eq(s.smsTemplates.tenantId, tenant.id))).length;
    return counts;
  } finally {
    await pool.end();
  }
}

CREATE TABLE customer_subscription_billing_period_adjustments_history (
    id bigint PRIMARY KEY,
    external_reference_identifier_for_reconciliation text UNIQUE,
    adjustment_amount_in_minor_currency_units_before_tax integer CHECK (adjustment_amount_in_minor_currency_units_before_tax >= 0),
    customer_subscription_billing_period_identifier bigint REFERENCES customer_subscription_billing_period_adjustments_history (id)
);
-- 56 bytes of table name in 51 characters: truncation must cut whole characters
CREATE TABLE "ÄrgerlicheÜberschriftenMitUmlautenUndLangemNamenÄÖÜ" (
    id bigint PRIMARY KEY,
    "größenangabe_für_überschriften" text UNIQUE CHECK ("größenangabe_für_überschriften" <> '')
);

CREATE TABLE member (org_id bigint, id bigint, PRIMARY KEY (org_id, id));
CREATE TABLE event (
    id              bigint PRIMARY KEY,
    org_id          bigint NOT NULL,
    actor_member_id bigint,
    CONSTRAINT event_actor_fk FOREIGN KEY (org_id, actor_member_id)
        REFERENCES member (org_id, id) ON DELETE SET NULL,
    CONSTRAINT event_full_fk FOREIGN KEY (org_id, actor_member_id)
        REFERENCES member (org_id, id)
);

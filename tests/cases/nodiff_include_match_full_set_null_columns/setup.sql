-- INCLUDE on a primary key and a unique constraint, MATCH FULL, and
-- ON DELETE SET NULL of some of a foreign key's columns (PostgreSQL 15).
CREATE TABLE member (
    org_id bigint,
    id     bigint,
    score  integer,
    CONSTRAINT member_pkey PRIMARY KEY (org_id, id) INCLUDE (score),
    CONSTRAINT member_id_key UNIQUE (id) INCLUDE (org_id, score)
);
CREATE TABLE event (
    id              bigint PRIMARY KEY,
    org_id          bigint NOT NULL,
    actor_member_id bigint,
    member_org      bigint,
    member_id       bigint,
    CONSTRAINT event_actor_fk FOREIGN KEY (org_id, actor_member_id)
        REFERENCES member (org_id, id) ON DELETE SET NULL (actor_member_id),
    CONSTRAINT event_member_fk FOREIGN KEY (member_org, member_id)
        REFERENCES member (org_id, id) MATCH FULL ON DELETE CASCADE
);

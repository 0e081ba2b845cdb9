// Invitations (etl/load): one INVITED_TO per (user, event); `by` is the inviting user's id.
UNWIND $rows AS row
MATCH (u:User {id: row.user_id})
MATCH (e:Event {id: row.event_id})
MERGE (u)-[r:INVITED_TO]->(e)
SET r.at = datetime(row.at),
    r.by = row.by_user_id

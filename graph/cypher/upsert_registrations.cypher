// Registrations (etl/load): one REGISTERED per (user, event), the link the model predicts.
UNWIND $rows AS row
MATCH (u:User {id: row.user_id})
MATCH (e:Event {id: row.event_id})
MERGE (u)-[r:REGISTERED]->(e)
SET r.at = datetime(row.at),
    r.status = row.status

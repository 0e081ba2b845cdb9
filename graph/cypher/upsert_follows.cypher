// Follows (etl/load): one FOLLOWS per (user, host), with the time when the row has one.
UNWIND $rows AS row
MATCH (u:User {id: row.user_id})
MATCH (h:Host {id: row.host_id})
MERGE (u)-[r:FOLLOWS]->(h)
SET r.at = datetime(row.at)

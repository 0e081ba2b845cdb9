// Ratings (etl/load): one RATED per (user, event), stars 1-5.
UNWIND $rows AS row
MATCH (u:User {id: row.user_id})
MATCH (e:Event {id: row.event_id})
MERGE (u)-[r:RATED]->(e)
SET r.stars = row.stars,
    r.at = datetime(row.at)

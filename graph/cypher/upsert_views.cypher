// Views (etl/load): one VIEWED per (user, event) with the time and the number of views.
UNWIND $rows AS row
MATCH (u:User {id: row.user_id})
MATCH (e:Event {id: row.event_id})
MERGE (u)-[r:VIEWED]->(e)
SET r.at = datetime(row.at),
    r.count = row.count

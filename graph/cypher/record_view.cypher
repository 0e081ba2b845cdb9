// One or more views of an event by a user (the API): VIEWED keeps the latest time and adds up
// the count, where the loader's upsert_views sets both from a file.
MATCH (u:User {id: $user_id})
MATCH (e:Event {id: $event_id})
MERGE (u)-[r:VIEWED]->(e)
ON CREATE SET r.at = datetime($at), r.count = $count
ON MATCH SET r.at = CASE WHEN r.at IS NULL OR datetime($at) > r.at THEN datetime($at) ELSE r.at END,
             r.count = coalesce(r.count, 0) + $count

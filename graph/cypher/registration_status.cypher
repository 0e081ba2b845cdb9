// The status of a user's registration for an event (none: no row), and the event's host.
MATCH (e:Event {id: $event_id})
OPTIONAL MATCH (h:Host)-[:HOSTS]->(e)
OPTIONAL MATCH (:User {id: $user_id})-[r:REGISTERED]->(e)
RETURN r.status AS status, h.id AS host_id

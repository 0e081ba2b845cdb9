// Friendships (etl/load): one FRIENDS_WITH per pair, stored from the smaller id to the larger
// (the loader orders each pair). The undirected MERGE also finds one stored the other way.
UNWIND $rows AS row
MATCH (a:User {id: row.user_id})
MATCH (b:User {id: row.friend_id})
MERGE (a)-[r:FRIENDS_WITH]-(b)
SET r.since = datetime(row.since)

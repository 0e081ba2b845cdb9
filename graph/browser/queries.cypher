// Ready-made queries for the Neo4j Browser (http://localhost:7474/browser). Paste one at a time.
// Each one takes a parameter: set it first with `:param userId => 'u000001'`.

// 1. A user's neighbourhood: friends, and what they registered for.
MATCH (u:User {id: $userId})-[:FRIENDS_WITH]-(f:User)-[r:REGISTERED {status: 'going'}]->(e:Event)
RETURN u, f, r, e LIMIT 50;

// 2. Upcoming events within 10 km of the user's home in the next 30 days (point + range index).
MATCH (u:User {id: $userId})
MATCH (e:Event)
WHERE e.start_time > datetime() AND e.start_time < datetime() + duration('P30D')
  AND point.distance(e.location, u.location) < 10000
RETURN e.title, e.category, e.start_time, round(point.distance(e.location, u.location)) AS metres
ORDER BY metres LIMIT 25;

// 3. The busiest hosts and their categories.
MATCH (h:Host)-[:HOSTS]->(e:Event)-[:IN_CATEGORY]->(c:Category)
RETURN h.name AS host, c.name AS category, count(e) AS events,
       sum(COUNT { (e)<-[:REGISTERED {status: 'going'}]-() }) AS going
ORDER BY going DESC LIMIT 20;

// 4. Why would this user like this event? The paths between them (friends, hosts, categories).
MATCH p = (u:User {id: $userId})-[:FRIENDS_WITH|REGISTERED|FOLLOWS|HOSTS*1..3]-(e:Event)
WHERE e.start_time > datetime()
RETURN p LIMIT 30;

// Constraints and indexes of the eventgraph schema (DESIGN.md). Idempotent: IF NOT EXISTS.
// A uniqueness constraint also creates the range index that MERGE on id uses.
CREATE CONSTRAINT user_id IF NOT EXISTS FOR (u:User) REQUIRE u.id IS UNIQUE;
CREATE CONSTRAINT event_id IF NOT EXISTS FOR (e:Event) REQUIRE e.id IS UNIQUE;
CREATE CONSTRAINT host_id IF NOT EXISTS FOR (h:Host) REQUIRE h.id IS UNIQUE;
CREATE CONSTRAINT category_name IF NOT EXISTS FOR (c:Category) REQUIRE c.name IS UNIQUE;
CREATE CONSTRAINT city_name IF NOT EXISTS FOR (c:City) REQUIRE c.name IS UNIQUE;
// Radius queries ("events within 25 km") seek the point index.
CREATE POINT INDEX event_location IF NOT EXISTS FOR (e:Event) ON (e.location);
CREATE POINT INDEX user_location IF NOT EXISTS FOR (u:User) ON (u.location);
// Time windows ("starting in the next 30 days") seek the range index.
CREATE RANGE INDEX event_start_time IF NOT EXISTS FOR (e:Event) ON (e.start_time);
CREATE RANGE INDEX event_status IF NOT EXISTS FOR (e:Event) ON (e.status);
// Temporal splits read registrations by time.
CREATE RANGE INDEX registered_at IF NOT EXISTS FOR ()-[r:REGISTERED]-() ON (r.at);

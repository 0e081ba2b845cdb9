// Stage 1 of the funnel: a few hundred candidate events per user, with their sources and the
// facts behind the reasons, in ONE round trip for a batch of requests (graph/candidates.py).
//
// Parameters: $requests [{user_id, lat, lon}], $now and $until (datetimes; $now is the replay
// moment, never wall-clock), $radius_m (already capped), $region_m (>= $radius_m, the area of
// the popular and category sources), $quota (per-source slots), $limit (slots in all),
// $fav_categories (how many favourite categories), $host_events (events read per host source).
//
// Time: every fact is read as of $now (registrations, invitations and follows at or before it;
// popularity counts going registrations at or before it). Every source keeps upcoming events only:
// start in ($now, $until], not cancelled, not already answered by the user (any REGISTERED at or
// before $now).
UNWIND $requests AS req
OPTIONAL MATCH (u:User {id: req.user_id})
WITH req, u,
     CASE WHEN req.lat IS NULL OR req.lon IS NULL THEN u.location
          ELSE point({latitude: req.lat, longitude: req.lon}) END AS origin
CALL (u, origin) {
  // --- what the user did up to now: attended hosts and favourite categories -----------------
  CALL (u) {
    OPTIONAL MATCH (u)-[r:REGISTERED]->(pe:Event)<-[:HOSTS]-(h:Host)
    WHERE r.at <= $now AND coalesce(r.status, 'going') = 'going'
    WITH h, count(pe) AS n
    WHERE h IS NOT NULL
    RETURN collect({h: h, n: n}) AS attended
  }
  CALL (u) {
    OPTIONAL MATCH (u)-[r:REGISTERED]->(pe:Event)
    WHERE r.at <= $now AND coalesce(r.status, 'going') = 'going' AND pe.category IS NOT NULL
    WITH pe.category AS c, count(pe) AS n
    WHERE c IS NOT NULL
    ORDER BY n DESC, c
    LIMIT $fav_categories
    RETURN collect(c) AS favs
  }
  CALL (u) {
    OPTIONAL MATCH (u)-[f:FOLLOWS]->(h:Host)
    WHERE f.at IS NULL OR f.at <= $now
    RETURN collect(DISTINCT h) AS followed
  }

  // --- friends: their going registrations, aggregated once per event -------------------------
  CALL (u) {
    OPTIONAL MATCH (u)-[:FRIENDS_WITH]-(f:User)-[r:REGISTERED]->(e:Event)
    WHERE f <> u AND r.at <= $now AND coalesce(r.status, 'going') = 'going'
      AND e.start_time > $now AND e.start_time <= $until
      AND NOT coalesce(e.status, '') IN ['cancelled', 'canceled']
    WITH e, f, r ORDER BY r.at
    WITH e, collect(DISTINCT f {.id, .name}) AS fs
    WHERE e IS NOT NULL AND NOT EXISTS { (u)-[a:REGISTERED]->(e) WHERE a.at <= $now }
    ORDER BY size(fs) DESC, e.start_time
    RETURN collect({e: e, n: size(fs), fr: fs[..3]}) AS friends
  }

  // --- invitations received up to now -------------------------------------------------------
  CALL (u) {
    OPTIONAL MATCH (u)-[i:INVITED_TO]->(e:Event)
    WHERE i.at <= $now AND e.start_time > $now AND e.start_time <= $until
      AND NOT coalesce(e.status, '') IN ['cancelled', 'canceled']
    WITH e, i ORDER BY i.at DESC
    WITH e, collect(DISTINCT i.by) AS by, max(i.at) AS last
    WHERE e IS NOT NULL AND NOT EXISTS { (u)-[a:REGISTERED]->(e) WHERE a.at <= $now }
    ORDER BY last DESC
    RETURN collect({e: e, by: by}) AS invited
  }

  // --- upcoming events of hosts the user attended or follows ---------------------------------
  CALL (u, attended, followed) {
    UNWIND attended + [h IN followed | {h: h, n: 0}] AS a
    WITH a.h AS h, max(a.n) AS n
    WITH h, n, h IN followed AS follows
    CALL (h) {
      MATCH (h)-[:HOSTS]->(e:Event)
      WHERE e.start_time > $now AND e.start_time <= $until
        AND NOT coalesce(e.status, '') IN ['cancelled', 'canceled']
      RETURN e ORDER BY e.start_time LIMIT $host_events
    }
    WITH h, n, follows, e
    WHERE NOT EXISTS { (u)-[a:REGISTERED]->(e) WHERE a.at <= $now }
    ORDER BY n DESC, follows DESC, e.start_time
    RETURN collect({e: e, n: n, fh: follows}) AS hosted
  }

  // --- the region around the origin: nearby, popular and favourite-category events -----------
  // One seek (start-time range index, or the point index) shared by three sources; popularity
  // counts going registrations made up to now.
  CALL (u, origin) {
    WITH u, origin WHERE origin IS NOT NULL
    MATCH (e:Event)
    WHERE e.start_time > $now AND e.start_time <= $until
      AND point.distance(e.location, origin) <= $region_m
    WITH u, e, point.distance(e.location, origin) AS d
    WHERE NOT coalesce(e.status, '') IN ['cancelled', 'canceled']
      AND NOT EXISTS { (u)-[a:REGISTERED]->(e) WHERE a.at <= $now }
    RETURN collect({
      e: e, d: d,
      pop: COUNT { (e)<-[r:REGISTERED]-() WHERE r.at <= $now AND coalesce(r.status, 'going') = 'going' }
    }) AS region
  }
  // Known users without a location and no lat/lon given: popular events anywhere in the window.
  CALL (u, origin) {
    WITH u, origin WHERE origin IS NULL AND u IS NOT NULL
    MATCH (e:Event)
    WHERE e.start_time > $now AND e.start_time <= $until
      AND NOT coalesce(e.status, '') IN ['cancelled', 'canceled']
      AND NOT EXISTS { (u)-[a:REGISTERED]->(e) WHERE a.at <= $now }
    WITH e,
      COUNT { (e)<-[r:REGISTERED]-() WHERE r.at <= $now AND coalesce(r.status, 'going') = 'going' } AS pop
    WHERE pop > 0
    ORDER BY pop DESC, e.start_time
    LIMIT $limit
    RETURN collect({e: e, d: null, pop: pop}) AS anywhere
  }
  CALL (region) {
    UNWIND region AS x
    WITH x WHERE x.d <= $radius_m
    ORDER BY x.d, x.e.start_time
    LIMIT $quota
    RETURN collect(x) AS nearby
  }
  CALL (region, anywhere) {
    UNWIND region + anywhere AS x
    WITH x WHERE x.pop > 0
    ORDER BY x.pop DESC, x.d, x.e.start_time
    LIMIT $limit
    RETURN collect(x) AS popular
  }
  CALL (region, favs) {
    UNWIND region AS x
    WITH x WHERE x.e.category IN favs
    ORDER BY x.pop DESC, x.d, x.e.start_time
    LIMIT $quota
    RETURN collect(x) AS category
  }

  // --- merge: one row per event; a source claims a slot by its rank over its quota ------------
  // Sources interleave by rank/quota (no single source floods the slots); popular only fills.
  // Rows past a source's quota still bring their facts (p: null) to events chosen by others.
  UNWIND
    [i IN range(0, size(nearby) - 1) | {e: nearby[i].e, s: 'nearby', p: toFloat(i) / $quota, pop: nearby[i].pop}] +
    [i IN range(0, size(friends) - 1) |
      {e: friends[i].e, s: 'friends', p: CASE WHEN i < $quota THEN toFloat(i) / $quota END,
       fn: friends[i].n, fr: friends[i].fr}] +
    [i IN range(0, size(invited) - 1) |
      {e: invited[i].e, s: 'invited', p: CASE WHEN i < $quota THEN toFloat(i) / $quota END,
       inv: invited[i].by}] +
    [i IN range(0, size(hosted) - 1) |
      {e: hosted[i].e, s: 'host', p: CASE WHEN i < $quota THEN toFloat(i) / $quota END,
       ha: hosted[i].n, fh: hosted[i].fh}] +
    [i IN range(0, size(category) - 1) | {e: category[i].e, s: 'category', p: toFloat(i) / $quota, pop: category[i].pop}] +
    [i IN range(0, size(popular) - 1) | {e: popular[i].e, s: 'popular', p: 1.0 + toFloat(i) / $limit, pop: popular[i].pop}]
    AS row
  WITH origin, row.e AS e,
       collect(DISTINCT CASE WHEN row.p IS NOT NULL THEN row.s END) AS sources,
       min(row.p) AS priority,
       max(row.fn) AS friends_going, head(collect(row.fr)) AS friends,
       head(collect(row.inv)) AS invited_by,
       max(row.ha) AS host_attended, max(CASE WHEN row.fh THEN 1 ELSE 0 END) AS follows_host,
       max(row.pop) AS popularity
  WHERE priority IS NOT NULL
  ORDER BY priority, e.start_time, e.id
  LIMIT $limit
  RETURN collect({
    event_id: e.id, sources: sources,
    start_time: e.start_time, title: e.title, category: e.category,
    lat: e.location.latitude, lon: e.location.longitude,
    distance_m: point.distance(e.location, origin),
    friends_going: coalesce(friends_going, 0),
    friend_ids: [f IN coalesce(friends, []) | f.id],
    friend_names: [f IN coalesce(friends, []) | f.name],
    invited_by: coalesce(invited_by, []),
    invited_by_names: [b IN coalesce(invited_by, []) | head(COLLECT { MATCH (x:User {id: b}) RETURN x.name })],
    host_attended: coalesce(host_attended, 0),
    follows_host: follows_host > 0,
    popularity: popularity
  }) AS items
}
RETURN req.user_id AS user_id, u IS NOT NULL AS known_user, items

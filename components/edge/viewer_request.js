// Viewer-request CloudFront Function of every behavior of the edge distribution (runtime cloudfront-js-2.0).
//
// - The beacon path answers GET and POST at the edge with 204 and never reaches the origin: the
//   request itself, logged whole in the real-time log, is the event. A function cannot read a
//   request body, and no log field carries one, so a beacon carries its events in the query
//   string: `e=<base64url of the JSON the API takes>`. A beacon without exactly one `e` gets 400
//   (still logged, so the edge-log Lambda dead-letters it with the reason).
// - `/events` goes to the ingest API unchanged; only a CORS preflight (OPTIONS) is answered here,
//   for the origins the stack allows, since the API itself has no OPTIONS method.
// - Anything else is 404 at the edge: nothing but `/events` reaches the API through the edge.
//
// The program renders CONFIG from the stack's settings (components/edge/distribution.py).
var CONFIG = /*CONFIG*/ { beaconPath: "/collect", allowedOrigins: [], preflightMaxAge: 600 };

var NO_STORE = { "cache-control": { value: "no-store" } };

function respond(statusCode, statusDescription, extra) {
  var headers = { "cache-control": NO_STORE["cache-control"] };
  for (var name in extra || {}) {
    headers[name] = { value: extra[name] };
  }
  return { statusCode: statusCode, statusDescription: statusDescription, headers: headers };
}

function beacon(request) {
  var method = request.method;
  if (method !== "GET" && method !== "POST") {
    return respond(405, "Method Not Allowed", { allow: "GET, POST" });
  }
  var parameter = request.querystring.e;
  if (!parameter || !parameter.value || (parameter.multiValue && parameter.multiValue.length > 1)) {
    return respond(400, "Bad Request", { "x-uba-reason": "a beacon carries exactly one e parameter" });
  }
  return respond(204, "No Content");
}

function preflight(request) {
  var origin = request.headers.origin ? request.headers.origin.value : "";
  if (CONFIG.allowedOrigins.indexOf(origin) < 0) {
    return respond(403, "Forbidden", { vary: "Origin" });
  }
  return respond(204, "No Content", {
    "access-control-allow-origin": origin,
    "access-control-allow-methods": "POST",
    "access-control-allow-headers": "content-type, x-api-key",
    "access-control-max-age": String(CONFIG.preflightMaxAge),
    vary: "Origin",
  });
}

function handler(event) {
  var request = event.request;
  if (request.uri === CONFIG.beaconPath) {
    return beacon(request);
  }
  if (request.uri === "/events") {
    return request.method === "OPTIONS" ? preflight(request) : request;
  }
  return respond(404, "Not Found");
}

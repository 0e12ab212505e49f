// http_session.cpp — see http_session.hpp. Response rules from SPEC.md "HTTP": security
// headers on every response, 421 before anything else for a foreign Host, 403 for writes
// without JSON or from another origin, 405 with Allow, 404 for the rest.
#include "http_session.hpp"

#include <algorithm>
#include <cstdio>

#include "../common/clock.hpp"
#include "http_assets.hpp"
#include "tcp_session.hpp"
#include "http_json.hpp"

namespace {

constexpr std::string_view kSecurityHeaders =
    "Content-Security-Policy: default-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'none'\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "Referrer-Policy: no-referrer\r\n"
    "X-Frame-Options: DENY\r\n";
constexpr std::string_view kJson = "application/json; charset=utf-8";

const char* status_text(int s) noexcept {
  switch (s) {
    case 200: return "OK";
    case 201: return "Created";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 417: return "Expectation Failed";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
  }
}

void count_status(Stats& st, int status) noexcept {
  if (status < 300) ++st.http_responses_2xx;
  else if (status < 500) ++st.http_responses_4xx;
  else ++st.http_responses_5xx;
}

bool json_type(std::string_view v) noexcept {
  std::string_view base = v.substr(0, v.find(';'));
  while (!base.empty() && base.back() == ' ') base.remove_suffix(1);
  return iequals_ascii(base, "application/json");
}

// "name value" STATS lines -> one JSON object.
std::string stats_json(const SessionContext& ctx) {
  std::string lines, out = "{";
  ctx.write_stats(lines);
  size_t pos = 0;
  while (pos < lines.size()) {
    size_t nl = lines.find('\n', pos);
    if (nl == std::string::npos) nl = lines.size();
    std::string_view l(lines.data() + pos, nl - pos);
    size_t sp = l.find(' ');
    if (sp != std::string_view::npos) {
      if (out.size() > 1) out += ',';
      http::append_json_string(out, l.substr(0, sp));
      out += ':';
      out += l.substr(sp + 1);
    }
    pos = nl + 1;
  }
  out += "}\n";
  return out;
}

std::string clients_json(const SessionContext& ctx) {
  std::string out;
  char t1[kTimeLen], t2[kTimeLen];
  for (const Index::Client& c : ctx.index.clients()) {
    format_time_ms(c.first_ms, t1);
    format_time_ms(c.last_ms, t2);
    out += "{\"addr\":";
    http::append_json_string(out, c.addr);
    out += ",\"notes\":" + std::to_string(c.notes) + ",\"first_time\":";
    http::append_json_string(out, std::string_view(t1, kTimeLen));
    out += ",\"last_time\":";
    http::append_json_string(out, std::string_view(t2, kTimeLen));
    out += "}\n";
  }
  return out;
}

}  // namespace

std::string query_filters(const std::vector<std::pair<std::string, std::string>>& params,
                          std::optional<uint64_t> last_event_id, Filters& f) {
  bool before_given = false;
  for (const auto& [name, value] : params) {
    if (name == "before") {
      auto n = parse_u64(value);
      if (before_given) return "before given twice";
      if (!n || *n == 0) return "before wants a seq above 0, not " + quote_word(value);
      before_given = true;
      f.before_seq = *n;
      continue;
    }
    if (name != "from" && name != "since" && name != "until" && name != "last" &&
        name != "match")
      continue;  // e.g. a cache-busting parameter
    if (last_event_id && (name == "since" || name == "last")) continue;
    if (std::string why = set_filter(f, name, value); !why.empty()) return why;
  }
  if (last_event_id) return set_filter(f, "since", std::to_string(*last_event_id));
  return {};
}

std::optional<uint64_t> idempotency_id(std::string_view key) noexcept {
  if (key.empty() || key.size() > 64) return std::nullopt;
  for (char c : key) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return std::nullopt;
  }
  return ExactlyOnce::key_client_id(key);
}

HttpSession::HttpSession(TcpSession* owner, const SockAddr& peer, std::string peer_text)
    : owner_(owner), peer_(peer), peer_text_(std::move(peer_text)) {}

size_t HttpSession::max_body(const Config& cfg) noexcept {
  // {"text": "..."} with every byte of the note escaped as \" or \\ (what JSON.stringify does
  // to the worst valid note), plus room for the wrapper and a few other members.
  return cfg.max_note * 2 + 256;
}

size_t HttpSession::input_limit(const Config& cfg) noexcept {
  return std::max<size_t>(64 << 10, http::kMaxHead + max_body(cfg));
}

void HttpSession::on_input(SessionContext& ctx, Buffer& in, Buffer& out, size_t high_water,
                           int64_t now_ms) {
  while (state_ == State::requests && !close_after_ && out.size() < high_water && !in.empty()) {
    http::Parsed p = http::parse_request(in.view(), max_body(ctx.cfg));
    if (p.status == http::ParseStatus::incomplete) {
      if (partial_since_ms_ < 0) partial_since_ms_ = now_ms;
      if (p.head_bytes == 0) return;
      // The head is in, the body not: a client that sent `Expect: 100-continue` waits for
      // this before sending it (RFC 9110 §10.1.1; curl waits 1 s, others for ever). Any
      // other expectation is refused below at once, without waiting for the body.
      http::Expectation e = http::expectation(p.request);
      if (e == http::Expectation::continue_100 && !continue_sent_) {
        out.append("HTTP/1.1 100 Continue\r\n\r\n");
        continue_sent_ = true;
      }
      if (e != http::Expectation::unsupported) return;
    }
    partial_since_ms_ = -1;
    continue_sent_ = false;
    if (p.status == http::ParseStatus::error) {
      keep_alive_ = false;
      head_only_ = false;  // a HEAD before it does not make this error bodiless
      error(ctx, out, p.error_status, p.error, true);
      in.clear();
      return;
    }
    if (http::expectation(p.request) == http::Expectation::unsupported) {
      keep_alive_ = false;  // its body, if any, is never read: the connection ends here
      head_only_ = false;
      error(ctx, out, 417, "only Expect: 100-continue is supported", true);
      in.clear();
      return;
    }
    ++ctx.stats.http_requests;
    handle(ctx, p.request, out, now_ms);
    in.consume(p.consumed);  // after handle: the request's views point into `in`
  }
}

void HttpSession::head(SessionContext& ctx, Buffer& out, int status, std::string_view type,
                       long long body_len, std::string_view extra) {
  count_status(ctx.stats, status);
  std::string& o = out.tail();
  char line[64];
  int n = std::snprintf(line, sizeof line, "HTTP/1.1 %d %s\r\n", status, status_text(status));
  o.append(line, static_cast<size_t>(n));
  if (!type.empty()) {
    o += "Content-Type: ";
    o += type;
    o += "\r\n";
  }
  if (body_len >= 0) o += "Content-Length: " + std::to_string(body_len) + "\r\n";
  o += "Cache-Control: no-store\r\n";
  o += kSecurityHeaders;
  o += extra;
  if (!keep_alive_) {
    o += "Connection: close\r\n";
    close_after_ = true;
  }
  o += "\r\n";
}

void HttpSession::respond(SessionContext& ctx, Buffer& out, int status, std::string_view type,
                          std::string_view body, std::string_view extra) {
  head(ctx, out, status, type, static_cast<long long>(body.size()), extra);
  if (!head_only_) out.append(body);
}

void HttpSession::error(SessionContext& ctx, Buffer& out, int status, std::string_view reason,
                        bool close, std::string_view extra) {
  if (close) keep_alive_ = false;
  std::string body = "{\"error\":";
  http::append_json_string(body, reason);
  body += "}\n";
  respond(ctx, out, status, kJson, body, extra);
}

void HttpSession::handle(SessionContext& ctx, const http::Request& r, Buffer& out,
                         int64_t now_ms) {
  keep_alive_ = r.keep_alive;
  head_only_ = r.method == "HEAD";
  std::optional<std::string_view> host = r.header("Host");
  if (host && !http::host_allowed(*host, ctx.cfg.http_hosts)) {
    error(ctx, out, 421, "unknown Host: use an IP address, localhost or a --http-host name",
          true);
    return;
  }
  const bool get = r.method == "GET" || head_only_;
  auto allow = [&](std::string_view methods) {
    error(ctx, out, 405, std::string(r.method) + " is not allowed here", false,
          "Allow: " + std::string(methods) + "\r\n");
  };
  if (r.path == "/notes") {
    if (r.method == "POST") return post_note(ctx, r, out, now_ms);
    if (!get) return allow("GET, HEAD, POST");
    return start_feed(ctx, r, out, false);
  }
  if (r.path == "/events") {
    if (!get) return allow("GET, HEAD");
    return start_feed(ctx, r, out, true);
  }
  if (r.path == "/clients" || r.path == "/stats") {
    if (!get) return allow("GET, HEAD");
    if (r.path == "/stats") return respond(ctx, out, 200, kJson, stats_json(ctx));
    return respond(ctx, out, 200, "application/x-ndjson; charset=utf-8", clients_json(ctx));
  }
  if (const WebAsset* a = find_web_asset(r.path)) {
    if (!get) return allow("GET, HEAD");
    return respond(ctx, out, 200, a->type, a->body);
  }
  error(ctx, out, 404, "no such page: " + std::string(r.path));
}

void HttpSession::start_feed(SessionContext& ctx, const http::Request& r, Buffer& out,
                             bool events) {
  auto params = http::parse_query(r.query);
  if (!params) return error(ctx, out, 400, "malformed percent escape in the query");
  std::optional<uint64_t> resume;
  if (auto id = r.header("Last-Event-ID"); events && id) {
    resume = parse_u64(*id);
    if (!resume) return error(ctx, out, 400, "Last-Event-ID wants a seq");
  }
  Filters f;
  if (std::string why = query_filters(*params, resume, f); !why.empty())
    return error(ctx, out, 400, why);
  if (events) {
    keep_alive_ = false;  // the stream ends only with the connection
    head(ctx, out, 200, "text/event-stream; charset=utf-8", -1, "X-Accel-Buffering: no\r\n");
    if (head_only_) return;
    out.append("retry: " + std::to_string(kEventsRetryMs) + "\n\n");
    cursor_.emplace(f, HistoryCursor::Mode::follow, ctx.store, ctx.index);
    state_ = State::events;
    ++ctx.stats.http_events_started;
    return;
  }
  chunked_ = r.minor == 1;
  if (!chunked_) keep_alive_ = false;  // HTTP/1.0: the body ends with the connection
  head(ctx, out, 200, "application/x-ndjson; charset=utf-8", -1,
       chunked_ ? "Transfer-Encoding: chunked\r\n" : "");
  if (head_only_) return;
  cursor_.emplace(f, HistoryCursor::Mode::snapshot, ctx.store, ctx.index);
  state_ = State::notes;
}

bool HttpSession::can_produce(const SessionContext& ctx) const noexcept {
  if (state_ == State::notes) return true;
  return state_ == State::events && !cursor_->at_end(ctx.store, ctx.index);
}

size_t HttpSession::produce(SessionContext& ctx, Buffer& out, size_t high_water,
                            size_t read_budget, int64_t now_ms) {
  if (state_ == State::events && last_event_ms_ == 0) last_event_ms_ = now_ms;
  size_t read = 0;
  const bool sse = state_ == State::events;
  while ((state_ == State::notes || sse) && out.size() < high_water && read < read_budget &&
         !cursor_->at_end(ctx.store, ctx.index)) {
    std::string& o = out.tail();
    size_t chunk_at = o.size();
    if (chunked_ && !sse) o += "00000000\r\n";  // the size is filled in below
    const size_t body_at = o.size();
    uint64_t notes = 0;
    const size_t step = cursor_->produce(ctx.store, ctx.index, ctx.scratch, read_budget - read,
                             high_water - out.size(), [&](std::string_view line) {
                               ++notes;
                               if (!sse) {
                                 http::append_note_json(o, line);
                                 return;
                               }
                               o += "id: ";
                               o.append(line.substr(0, line.find('\t')));
                               o += "\ndata: ";
                               http::append_note_json(o, line);  // ends in '\n'
                               o += '\n';
                             });
    read += step;
    if (chunked_ && !sse) {
      if (o.size() == body_at) {
        o.resize(chunk_at);  // nothing selected in this chunk of the store
      } else {
        char size[24];
        std::snprintf(size, sizeof size, "%08x", static_cast<unsigned>(o.size() - body_at));
        o.replace(chunk_at, 8, size, 8);  // a chunk is far below 4 GiB
        o += "\r\n";
      }
    }
    if (notes) last_event_ms_ = now_ms;
    ctx.stats.http_notes_sent += notes;
    if (cursor_->failed()) {
      close_after_ = true;  // a store read failed: end the response by closing
      state_ = State::requests;
      return read;
    }
    if (step == 0 && notes == 0) break;  // nothing readable now
  }
  if (state_ == State::notes && cursor_->at_end(ctx.store, ctx.index)) {
    if (chunked_) out.append("0\r\n\r\n");
    cursor_.reset();
    state_ = State::requests;
  }
  if (state_ == State::events && now_ms - last_event_ms_ >= kEventsCommentMs) {
    out.append(": keep-alive\n\n");
    last_event_ms_ = now_ms;
  }
  return read;
}

void HttpSession::post_note(SessionContext& ctx, const http::Request& r, Buffer& out,
                            int64_t now_ms) {
  std::optional<std::string_view> type = r.header("Content-Type");
  if (!type || !json_type(*type))
    return error(ctx, out, 403, "writes need Content-Type: application/json");
  std::optional<std::string_view> origin = r.header("Origin");
  std::optional<std::string_view> host = r.header("Host");
  if (origin && (!host || !http::same_origin(*origin, *host)))
    return error(ctx, out, 403, "cross-origin write refused: Origin differs from Host");
  uint64_t id = 0;
  if (r.header_count("Idempotency-Key") > 1)
    return error(ctx, out, 400, "more than one Idempotency-Key");
  if (auto key = r.header("Idempotency-Key")) {
    auto k = idempotency_id(*key);
    if (!k) return error(ctx, out, 400, "Idempotency-Key wants 1-64 characters of A-Z a-z 0-9 _ -");
    id = *k;
  }
  HttpShared& sh = *ctx.http;
  // A key seen before is a retry: its original answer, whatever this body says (answered
  // after the turn's commit, when a retry of a note from this same turn is settled too).
  if (id && sh.once.admit(id, 1, 1, 1).kind == ExactlyOnce::Admission::Kind::duplicate) {
    sh.posts.push_back({owner_, {}, {}, now_ms, id, true});
    state_ = State::commit;
    return;
  }
  std::string why;
  auto text = http::read_text_member(r.body, why);
  if (!text) return error(ctx, out, 400, "malformed body: " + why);
  std::string_view note = strip_one_newline(*text);
  NoteCheck chk = validate_note(note, ctx.cfg.max_note);
  if (!chk.ok()) return error(ctx, out, 422, note_error_reason(chk, ctx.cfg.max_note));
  const int64_t note_ms = wall_ms();  // the note's TIME (now_ms is monotonic)
  if (sh.rate.enabled() && !sh.rate.take(peer_, 1, note_ms))
    return error(ctx, out, 429, kReasonRateLimited);
  if (id) sh.once.take(id, 2);
  sh.posts.push_back({owner_, std::string(note), peer_text_, note_ms, id, false});
  state_ = State::commit;
}

void HttpSession::on_committed(SessionContext& ctx, Buffer& out, uint64_t seq,
                               std::string_view reason) {
  state_ = State::requests;
  if (seq == 0) return error(ctx, out, 503, reason);
  respond(ctx, out, 201, kJson, "{\"seq\":" + std::to_string(seq) + "}\n");
}

CloseReason HttpSession::check(const SessionContext& ctx, int64_t now_ms, bool have_input,
                               uint64_t backlog_limit) const noexcept {
  const int64_t idle_ms = static_cast<int64_t>(ctx.cfg.idle_timeout_s) * 1000;
  if (state_ == State::requests && have_input && partial_since_ms_ >= 0 &&
      now_ms - partial_since_ms_ > idle_ms)
    return CloseReason::request_incomplete;
  if (state_ == State::events && cursor_->backlog_bytes(ctx.store, ctx.index) > backlog_limit)
    return CloseReason::events_backlog;
  return CloseReason::none;
}

/*
 * loadgen: a WebSocket fan-out load generator in C (one process, one thread, epoll).
 *
 * Why: the fan-out benchmark has to prove that its load generator is not the bottleneck. The
 * asyncio generator (bench/fanout_client.py) spends most of a core at ~60-70k deliveries/s.
 * This one spends well under a microsecond of user time per delivered frame; what is left is
 * the kernel's cost of one recv() per frame (including the TCP ACK that recv() sends, which on
 * loopback is processed into the server's socket on the generator's core).
 *
 * What: connects --clients clients (RFC 6455 client handshake, masked client frames, no
 * extensions; at most --concurrency of them connecting or joining at a time), sends each
 * --hello frame, waits until every client is "joined" (a text frame starting with
 * --joined-prefix, or the upgrade itself without one), prints "joined <seconds>" (or
 * "failed <joined>/<clients> ..." once every client has joined or died, or at --join-timeout),
 * then counts every `t:<unix time>|<index>|` marker in received text frames (latency
 * histogram, per-index counts) until stdin reaches EOF, SIGTERM/SIGINT, or --duration, and
 * prints one JSON object. Then it sends every client a close frame (1000) and waits up to
 * --linger seconds for the server to answer, so the server sees clean closes.
 *
 * Reply rules for Socket.IO-style peers: --reply-exact 'MATCH=>TEXT' answers a text frame
 * equal to MATCH, --reply-prefix 'PREFIX=>TEXT' one starting with PREFIX; rules are tried in
 * command-line order and the first match wins. Pings are answered with pongs. --ack each|burst
 * answers `[<n>,"PUBLISH"...` frames with `[<n>,"ACK"]`: each one, or (burst, as the browser
 * SDK does) one for the highest n, --ack-after-ms after the first un-acked push.
 *
 * --pace-us US: after a wakeup that brought fewer than 256 events, sleep US before waiting
 * again, so events gather and the generator wakes up less often (less CPU per delivery when
 * the server is the bottleneck, at the price of up to US of added latency). Default 0.
 *
 * Counters (frames, deliveries, per_message, latencies, acks_sent, wakeups) cover the whole
 * run until a "reset"; interval_wall_s/interval_cpu_s run from "joined" (or the last reset).
 * "failed" counts clients that never joined, "disconnected" connections that ended after the
 * TCP connect (EOF, error, or the server's close frame; "close_frames" counts the latter).
 *
 * stdin commands (one per line) while running: "stats" prints a JSON snapshot line;
 * "reset [M]" clears the counters (optionally resizing per_message to M) and prints "ok".
 *
 * Linux only; libc/POSIX/epoll only. Build: gcc -O2 -Wall -Wextra -Werror -o loadgen loadgen.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define READ_SIZE (256 * 1024)
#define MAX_FRAME (16u * 1024 * 1024) /* larger frames are a protocol error */
#define MAX_RESPONSE 16384            /* the HTTP 101 response must fit in this */
#define STDIN_TAG UINT64_MAX

/* ---- options ---- */

struct reply_rule {
    int exact;
    const char *match;
    size_t match_len;
    const char *text;
    size_t text_len;
};

static const char *opt_host = "127.0.0.1";
static const char *opt_port = "8123";
static long opt_clients = 1;
static const char *opt_path = "/";
static const char **opt_hello;
static int n_hello;
static const char *opt_joined_prefix;
static size_t joined_prefix_len;
static struct reply_rule *rules;
static int n_rules;
static enum { ACK_NONE, ACK_EACH, ACK_BURST } opt_ack = ACK_NONE;
static long opt_ack_after_ms = 100;
static long opt_messages = 0;
static long opt_concurrency = 200;
static double opt_join_timeout = 300.0;
static double opt_duration = 0.0;
static long opt_pace_us = 0;

/* ---- clients ---- */

enum { ST_IDLE, ST_CONNECTING, ST_HANDSHAKE, ST_OPEN, ST_CLOSED };

struct buf {
    uint8_t *p;
    size_t len, cap;
};

struct client {
    int fd;
    uint8_t state;
    uint8_t joined;
    uint8_t ack_pending;
    uint8_t want_out;
    uint8_t frag_op;
    uint8_t tcp_up;
    struct buf in, out, frag;
    int64_t ack_n;
};

static struct client *clients;
static int epfd;
static struct sockaddr_storage server_addr;
static socklen_t server_addrlen;
static char host_header[300];
static uint8_t *readbuf;

/* ---- counters ---- */

static long next_client, inflight, n_joined, n_failed, n_disconnected, n_upgraded;
static long n_close_frames;
static int announced;
static char first_error[200];

static uint64_t frames, deliveries, out_of_range, acks_sent, negative_latencies, wakeups;
static uint64_t *per_message;
static long per_message_len;
static int64_t first_receive_us, last_receive_us;
static int64_t lat_max_us;
static double lat_sum_us;

/* Latency histogram: 10 us buckets to 100 ms, 1 ms buckets to 10 s, 100 ms buckets to 120 s. */
#define H1 10000
#define H2 9900
#define H3 1100
#define HN (H1 + H2 + H3 + 1)
static uint64_t hist[HN];

static double start_mono, interval_mono, interval_cpu, join_seconds = -1;
static double join_deadline, end_deadline;
static volatile sig_atomic_t stop_requested;
static int closing;      /* the run is over: closing connections, counting nothing */
static double opt_linger = 2.0;

/* Burst ACK timers: the delay is constant, so a FIFO of (deadline, client) is time-ordered. */
static int64_t *fifo_deadline;
static int32_t *fifo_client;
static long fifo_head, fifo_count;

static uint64_t rng_state;

/* ---- small helpers ---- */

static void die(const char *what) {
    fprintf(stderr, "loadgen: %s: %s\n", what, strerror(errno));
    exit(2);
}

static void *xrealloc(void *p, size_t n) {
    void *q = realloc(p, n);
    if (!q && n) {
        fprintf(stderr, "loadgen: out of memory\n");
        exit(2);
    }
    return q;
}

static double mono_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int64_t mono_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t real_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static double cpu_seconds(double *user, double *sys) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double u = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
    double s = ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    if (user) *user = u;
    if (sys) *sys = s;
    return u + s;
}

static uint64_t rng_next(void) { /* splitmix64: masks only need to be unpredictable-ish */
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void buf_append(struct buf *b, const void *data, size_t n) {
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n) cap *= 2;
        b->p = xrealloc(b->p, cap);
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

static void buf_drop(struct buf *b, size_t n) { /* drop n bytes from the front; free if empty */
    if (n >= b->len) {
        free(b->p);
        b->p = NULL;
        b->len = b->cap = 0;
        return;
    }
    memmove(b->p, b->p + n, b->len - n);
    b->len -= n;
}

static void buf_free(struct buf *b) { buf_drop(b, b->len + 1); }

static void note_error(const char *fmt, const char *detail) {
    if (!first_error[0] && !closing) snprintf(first_error, sizeof first_error, fmt, detail);
}

static void start_more(void);

static void epoll_set(struct client *c, int out) {
    struct epoll_event ev = {.events = EPOLLIN | EPOLLET | (out ? EPOLLOUT : 0)};
    ev.data.u64 = (uint64_t)(c - clients);
    if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0) die("epoll_ctl MOD");
    c->want_out = (uint8_t)out;
}

/* The connection ended (EOF, error, close frame, protocol error): count it and free it. */
static void lose(struct client *c, const char *why) {
    if (c->state == ST_CLOSED) return;
    note_error("%s", why);
    if (c->fd >= 0) close(c->fd); /* close() removes it from the epoll set */
    c->fd = -1;
    if (c->tcp_up) n_disconnected++;
    if (!c->joined) {
        n_failed++;
        inflight--;
    }
    c->state = ST_CLOSED;
    buf_free(&c->in);
    buf_free(&c->out);
    buf_free(&c->frag);
    start_more();
}

static void flush_out(struct client *c) {
    while (c->out.len) {
        ssize_t w = send(c->fd, c->out.p, c->out.len, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            if (errno == EINTR) continue;
            lose(c, strerror(errno));
            return;
        }
        buf_drop(&c->out, (size_t)w);
    }
    if (c->out.len == 0 && c->want_out) epoll_set(c, 0);
    if (c->out.len && !c->want_out) epoll_set(c, 1);
}

static void send_raw(struct client *c, const uint8_t *data, size_t n) {
    if (c->state == ST_CLOSED) return;
    if (c->out.len == 0) {
        ssize_t w = send(c->fd, data, n, MSG_NOSIGNAL);
        if (w == (ssize_t)n) return;
        if (w < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                lose(c, strerror(errno));
                return;
            }
            w = 0;
        }
        data += w;
        n -= (size_t)w;
    }
    buf_append(&c->out, data, n);
    if (!c->want_out) epoll_set(c, 1);
}

/* A client frame: FIN, the opcode, the length, a random 4-byte mask, the masked payload. */
static void send_frame(struct client *c, int opcode, const void *payload, size_t n) {
    uint8_t stack[4096 + 14];
    uint8_t *f = n + 14 <= sizeof stack ? stack : xrealloc(NULL, n + 14);
    size_t h = 0;
    f[h++] = (uint8_t)(0x80 | opcode);
    if (n < 126) {
        f[h++] = (uint8_t)(0x80 | n);
    } else if (n < 65536) {
        f[h++] = 0x80 | 126;
        f[h++] = (uint8_t)(n >> 8);
        f[h++] = (uint8_t)n;
    } else {
        f[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--) f[h++] = (uint8_t)((uint64_t)n >> (8 * i));
    }
    uint32_t m32 = (uint32_t)rng_next();
    uint8_t mask[4];
    memcpy(mask, &m32, 4);
    memcpy(f + h, mask, 4);
    h += 4;
    const uint8_t *src = payload;
    for (size_t i = 0; i < n; i++) f[h + i] = src[i] ^ mask[i & 3];
    send_raw(c, f, h + n);
    if (f != stack) free(f);
}

static void send_text(struct client *c, const char *text, size_t n) { send_frame(c, 0x1, text, n); }

static void base64(const uint8_t *in, size_t n, char *out) {
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n) v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n) v |= in[i + 2];
        out[o++] = tab[(v >> 18) & 63];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? tab[v & 63] : '=';
    }
    out[o] = 0;
}

static void send_handshake(struct client *c) {
    uint8_t key[16];
    for (int i = 0; i < 16; i += 8) {
        uint64_t r = rng_next();
        memcpy(key + i, &r, 8);
    }
    char key64[32];
    base64(key, 16, key64);
    char path[2048];
    size_t pl = 0;
    long idx = (long)(c - clients);
    for (const char *s = opt_path; *s && pl < sizeof path - 32;) {
        if (strncmp(s, "{i}", 3) == 0) {
            pl += (size_t)snprintf(path + pl, sizeof path - pl, "%ld", idx);
            s += 3;
        } else {
            path[pl++] = *s++;
        }
    }
    path[pl] = 0;
    char req[4096];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
                     path, host_header, key64);
    c->state = ST_HANDSHAKE;
    send_raw(c, (const uint8_t *)req, (size_t)n);
}

static void print_announce(void);

static void mark_joined(struct client *c) {
    if (c->joined) return;
    c->joined = 1;
    n_joined++;
    inflight--;
    start_more();
}

static void open_client(long i) {
    struct client *c = &clients[i];
    c->state = ST_CONNECTING;
    inflight++;
    c->fd = socket(server_addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        lose(c, strerror(errno));
        return;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET};
    ev.data.u64 = (uint64_t)i;
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) die("epoll_ctl ADD");
    c->want_out = 1;
    if (connect(c->fd, (struct sockaddr *)&server_addr, server_addrlen) == 0) {
        c->tcp_up = 1;
        epoll_set(c, 0);
        send_handshake(c);
    } else if (errno != EINPROGRESS) {
        lose(c, strerror(errno));
    }
}

static void start_more(void) {
    static int busy; /* lose() calls back here: iterate, don't recurse */
    if (busy || closing) return;
    busy = 1;
    while (inflight < opt_concurrency && next_client < opt_clients) open_client(next_client++);
    busy = 0;
}

/* ---- receiving ---- */

static void record_latency(int64_t us) {
    if (us < 0) {
        negative_latencies++;
        us = 0;
    }
    size_t b;
    if (us < 100000)
        b = (size_t)us / 10;
    else if (us < 10000000)
        b = H1 + (size_t)(us - 100000) / 1000;
    else if (us < 120000000)
        b = H1 + H2 + (size_t)(us - 10000000) / 100000;
    else
        b = HN - 1;
    hist[b]++;
    lat_sum_us += (double)us;
    if (us > lat_max_us) lat_max_us = us;
}

static int64_t bucket_upper_us(size_t b) {
    if (b < H1) return (int64_t)(b + 1) * 10;
    if (b < H1 + H2) return 100000 + (int64_t)(b - H1 + 1) * 1000;
    if (b < H1 + H2 + H3) return 10000000 + (int64_t)(b - H1 - H2 + 1) * 100000;
    return lat_max_us;
}

/* Every `t:<seconds>[.<fraction>]|<index>|` in the payload. Anything else after "t:" is skipped.
 * A message's marker may appear more than once in one frame (Chinwag sends its text and its
 * content blocks, which hold the text again): each index counts once per frame. */
static void scan_markers(const uint8_t *p, size_t n, int64_t now) {
    const uint8_t *end = p + n, *s = p;
    int64_t seen[256];
    int n_seen = 0;
    while (s < end) {
        const uint8_t *m = memmem(s, (size_t)(end - s), "t:", 2);
        if (!m) return;
        const uint8_t *q = m + 2;
        s = q;
        int64_t sec = 0, frac = 0;
        int digits = 0, fdigits = 0;
        while (q < end && *q >= '0' && *q <= '9' && digits < 15) sec = sec * 10 + (*q++ - '0'), digits++;
        if (!digits) continue;
        if (q < end && *q == '.') {
            q++;
            while (q < end && *q >= '0' && *q <= '9') {
                if (fdigits < 6) frac = frac * 10 + (*q - '0'), fdigits++;
                q++;
            }
        }
        for (int k = fdigits; k < 6; k++) frac *= 10;
        if (q >= end || *q != '|') continue;
        q++;
        int64_t index = 0;
        int idigits = 0, neg = 0;
        if (q < end && *q == '-') neg = 1, q++;
        while (q < end && *q >= '0' && *q <= '9' && idigits < 18) index = index * 10 + (*q++ - '0'), idigits++;
        if (!idigits || q >= end || *q != '|') continue;
        s = q + 1;
        if (neg) index = -index;
        int repeat = 0;
        for (int k = 0; k < n_seen && !repeat; k++) repeat = seen[k] == index;
        if (repeat) continue;
        if (n_seen < 256) seen[n_seen++] = index;
        deliveries++;
        if (index >= 0 && index < per_message_len)
            per_message[index]++;
        else
            out_of_range++;
        record_latency(now - (sec * 1000000 + frac));
        if (!first_receive_us) first_receive_us = now;
        last_receive_us = now;
    }
}

/* `[<n>,"PUBLISH"...`: returns n, or -1. */
static int64_t publish_number(const uint8_t *p, size_t n) {
    if (n < 3 || p[0] != '[') return -1;
    size_t i = 1;
    int64_t v = 0;
    while (i < n && p[i] >= '0' && p[i] <= '9' && i < 19) v = v * 10 + (p[i++] - '0');
    if (i == 1) return -1;
    if (n - i < 10 || memcmp(p + i, ",\"PUBLISH\"", 10) != 0) return -1;
    return v;
}

static void send_ack(struct client *c, int64_t n) {
    char t[40];
    int len = snprintf(t, sizeof t, "[%" PRId64 ",\"ACK\"]", n);
    send_text(c, t, (size_t)len);
    acks_sent++;
}

static void on_text(struct client *c, const uint8_t *p, size_t n, int64_t now) {
    for (int r = 0; r < n_rules; r++) {
        struct reply_rule *rule = &rules[r];
        if (rule->exact ? (n == rule->match_len && memcmp(p, rule->match, n) == 0)
                        : (n >= rule->match_len && memcmp(p, rule->match, rule->match_len) == 0)) {
            send_text(c, rule->text, rule->text_len);
            if (c->state != ST_OPEN) return;
            break;
        }
    }
    if (!c->joined && opt_joined_prefix && n >= joined_prefix_len &&
        memcmp(p, opt_joined_prefix, joined_prefix_len) == 0)
        mark_joined(c);
    scan_markers(p, n, now);
    if (opt_ack == ACK_NONE) return;
    int64_t pn = publish_number(p, n);
    if (pn < 0) return;
    if (opt_ack == ACK_EACH) {
        send_ack(c, pn);
        return;
    }
    if (!c->ack_pending || pn > c->ack_n) c->ack_n = pn;
    if (!c->ack_pending) {
        c->ack_pending = 1;
        long slot = (fifo_head + fifo_count) % opt_clients;
        fifo_deadline[slot] = mono_us() + opt_ack_after_ms * 1000;
        fifo_client[slot] = (int32_t)(c - clients);
        fifo_count++;
    }
}

static void on_message(struct client *c, int opcode, const uint8_t *p, size_t n, int64_t now) {
    frames++;
    if (opcode == 0x1) on_text(c, p, n, now);
}

static void on_frame(struct client *c, uint8_t b0, const uint8_t *p, size_t n, int64_t now) {
    int opcode = b0 & 0x0F, fin = b0 & 0x80;
    switch (opcode) {
    case 0x0:
        if (!c->frag_op) {
            lose(c, "continuation frame without a start");
            return;
        }
        if (c->frag.len + n > MAX_FRAME) {
            lose(c, "fragmented message too large");
            return;
        }
        buf_append(&c->frag, p, n);
        if (fin) {
            int op = c->frag_op;
            c->frag_op = 0;
            on_message(c, op, c->frag.p, c->frag.len, now);
            if (c->state == ST_OPEN) buf_free(&c->frag);
        }
        return;
    case 0x1:
    case 0x2:
        if (fin) {
            on_message(c, opcode, p, n, now);
        } else {
            c->frag_op = (uint8_t)opcode;
            buf_append(&c->frag, p, n);
        }
        return;
    case 0x8: {
        if (closing) { /* the server's answer to our close frame */
            lose(c, "");
            return;
        }
        n_close_frames++;
        send_frame(c, 0x8, p, n >= 2 ? 2 : 0);
        char why[64];
        snprintf(why, sizeof why, "close frame %d", n >= 2 ? (p[0] << 8 | p[1]) : 1005);
        lose(c, why);
        return;
    }
    case 0x9:
        send_frame(c, 0xA, p, n);
        return;
    default:
        return; /* pong and reserved opcodes */
    }
}

/* Consume the handshake response and whole frames from p; returns the bytes used. */
static size_t consume(struct client *c, uint8_t *p, size_t len, int64_t now) {
    size_t pos = 0;
    if (c->state == ST_HANDSHAKE) {
        uint8_t *end = memmem(p, len, "\r\n\r\n", 4);
        if (!end) {
            if (len > MAX_RESPONSE) lose(c, "handshake response too long");
            return 0;
        }
        if (len < 12 || memcmp(p, "HTTP/1.1 101", 12) != 0) {
            char line[120];
            size_t l = 0;
            while (l < len && l < sizeof line - 1 && p[l] != '\r') line[l] = (char)p[l], l++;
            line[l] = 0;
            char why[160];
            snprintf(why, sizeof why, "handshake refused: %s", line);
            lose(c, why);
            return 0;
        }
        pos = (size_t)(end - p) + 4;
        c->state = ST_OPEN;
        n_upgraded++;
        for (int h = 0; h < n_hello && c->state == ST_OPEN; h++)
            send_text(c, opt_hello[h], strlen(opt_hello[h]));
        if (c->state != ST_OPEN) return pos;
        if (!opt_joined_prefix) mark_joined(c);
    }
    while (c->state == ST_OPEN && len - pos >= 2) {
        uint8_t b0 = p[pos], b1 = p[pos + 1];
        uint64_t n = b1 & 0x7F;
        size_t h = 2;
        if (n == 126) {
            if (len - pos < 4) break;
            n = (uint64_t)p[pos + 2] << 8 | p[pos + 3];
            h = 4;
        } else if (n == 127) {
            if (len - pos < 10) break;
            n = 0;
            for (int i = 0; i < 8; i++) n = n << 8 | p[pos + 2 + i];
            h = 10;
        }
        if (n > MAX_FRAME) {
            lose(c, "frame too large");
            return pos;
        }
        uint8_t *mask = NULL;
        if (b1 & 0x80) {
            mask = p + pos + h;
            h += 4;
        }
        if (len - pos < h + n) break;
        uint8_t *payload = p + pos + h;
        if (mask)
            for (size_t i = 0; i < n; i++) payload[i] ^= mask[i & 3];
        pos += h + n;
        on_frame(c, b0, payload, (size_t)n, now);
    }
    return pos;
}

/* Sockets are edge-triggered (a level-triggered socket is polled again on every epoll_wait).
   A read shorter than the buffer took everything there was: data arriving after it raises a new
   edge, so there is no need for the extra recv that would only return EAGAIN. */
static void on_readable(struct client *c) {
    for (;;) {
        ssize_t r = recv(c->fd, readbuf, READ_SIZE, 0);
        if (r == 0) {
            lose(c, "EOF from the server");
            return;
        }
        if (r < 0) {
            if (errno == EINTR) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) lose(c, strerror(errno));
            return;
        }
        int64_t now = real_us();
        if (c->in.len == 0) {
            size_t used = consume(c, readbuf, (size_t)r, now);
            if (c->state != ST_CLOSED && used < (size_t)r)
                buf_append(&c->in, readbuf + used, (size_t)r - used);
        } else {
            buf_append(&c->in, readbuf, (size_t)r);
            size_t used = consume(c, c->in.p, c->in.len, now);
            if (c->state != ST_CLOSED) buf_drop(&c->in, used);
        }
        if (c->state == ST_CLOSED || r < READ_SIZE) return;
    }
}

static void on_client_event(struct client *c, uint32_t events) {
    if (c->state == ST_CLOSED) return;
    if (c->state == ST_CONNECTING) {
        int err = 0;
        socklen_t l = sizeof err;
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0) err = errno;
        if (err) {
            lose(c, strerror(err));
            return;
        }
        if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
        c->tcp_up = 1;
        epoll_set(c, 0);
        send_handshake(c);
        return;
    }
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_readable(c);
    if (c->state != ST_CLOSED && (events & EPOLLOUT)) flush_out(c);
}

/* ---- reports ---- */

static void json_string(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static double percentile_ms(double q, uint64_t total) {
    if (!total) return 0;
    uint64_t rank = (uint64_t)(q * (double)total);
    if ((double)rank < q * (double)total) rank++;
    if (rank < 1) rank = 1;
    uint64_t cum = 0;
    for (size_t b = 0; b < HN; b++) {
        cum += hist[b];
        if (cum >= rank) {
            int64_t up = bucket_upper_us(b);
            if (up > lat_max_us) up = lat_max_us;
            return up / 1000.0;
        }
    }
    return lat_max_us / 1000.0;
}

static void report(FILE *f) {
    double user, sys;
    double cpu = cpu_seconds(&user, &sys);
    uint64_t total = 0, duplicates = 0;
    for (size_t b = 0; b < HN; b++) total += hist[b];
    for (long i = 0; i < per_message_len; i++)
        if (per_message[i] > (uint64_t)opt_clients) duplicates += per_message[i] - (uint64_t)opt_clients;
    fprintf(f, "{\"clients\": %ld, \"upgraded\": %ld, \"joined\": %ld, \"failed\": %ld, ", opt_clients,
            n_upgraded, n_joined, n_failed);
    fprintf(f, "\"disconnected\": %ld, \"close_frames\": %ld, ", n_disconnected, n_close_frames);
    fprintf(f, "\"frames\": %" PRIu64 ", \"deliveries\": %" PRIu64 ", \"per_message\": [", frames,
            deliveries);
    for (long i = 0; i < per_message_len; i++) fprintf(f, i ? ", %" PRIu64 : "%" PRIu64, per_message[i]);
    fprintf(f, "], \"out_of_range\": %" PRIu64 ", \"duplicates\": %" PRIu64 ", ", out_of_range, duplicates);
    fprintf(f, "\"p50_ms\": %.3f, \"p99_ms\": %.3f, \"max_ms\": %.3f, \"mean_ms\": %.3f, ",
            percentile_ms(0.5, total), percentile_ms(0.99, total), lat_max_us / 1000.0,
            total ? lat_sum_us / (double)total / 1000.0 : 0.0);
    fprintf(f, "\"negative_latencies\": %" PRIu64 ", \"wakeups\": %" PRIu64 ", ", negative_latencies,
            wakeups);
    if (first_receive_us)
        fprintf(f, "\"first_receive\": %.6f, \"last_receive\": %.6f, ", first_receive_us / 1e6,
                last_receive_us / 1e6);
    else
        fprintf(f, "\"first_receive\": null, \"last_receive\": null, ");
    fprintf(f, "\"cpu_user_s\": %.6f, \"cpu_sys_s\": %.6f, \"acks_sent\": %" PRIu64 ", ", user, sys,
            acks_sent);
    double now = mono_now();
    fprintf(f, "\"join_s\": %.3f, \"interval_wall_s\": %.6f, \"interval_cpu_s\": %.6f, ", join_seconds,
            interval_mono ? now - interval_mono : 0.0, interval_mono ? cpu - interval_cpu : 0.0);
    fprintf(f, "\"wall_s\": %.6f, \"first_error\": ", now - start_mono);
    if (first_error[0])
        json_string(f, first_error);
    else
        fputs("null", f);
    fputs("}\n", f);
    fflush(f);
}

static void reset_interval(long messages) {
    if (messages >= 0 && messages != per_message_len) {
        per_message = xrealloc(per_message, (size_t)(messages ? messages : 1) * sizeof *per_message);
        per_message_len = messages;
    }
    memset(per_message, 0, (size_t)per_message_len * sizeof *per_message);
    memset(hist, 0, sizeof hist);
    frames = deliveries = out_of_range = acks_sent = negative_latencies = wakeups = 0;
    first_receive_us = last_receive_us = lat_max_us = 0;
    lat_sum_us = 0;
    interval_mono = mono_now();
    interval_cpu = cpu_seconds(NULL, NULL);
}

static void print_announce(void) {
    if (announced) return;
    double now = mono_now();
    if (n_joined == opt_clients) {
        join_seconds = now - start_mono;
        printf("joined %.3f\n", join_seconds);
    } else if (n_joined + n_failed >= opt_clients || now >= join_deadline) {
        join_seconds = now - start_mono;
        printf("failed %ld/%ld joined after %.3f s: %s\n", n_joined, opt_clients, join_seconds,
               first_error[0] ? first_error : "timed out");
    } else {
        return;
    }
    fflush(stdout);
    announced = 1;
    interval_mono = now;
    interval_cpu = cpu_seconds(NULL, NULL);
    if (opt_duration > 0) end_deadline = now + opt_duration;
}

static char stdin_line[256];
static size_t stdin_len;
static int stdin_open = 1;

static void on_stdin(void) {
    char tmp[256];
    ssize_t r = read(0, tmp, sizeof tmp);
    if (r < 0) {
        if (errno == EAGAIN || errno == EINTR) return;
        r = 0;
    }
    if (r == 0) {
        stop_requested = 1;
        stdin_open = 0;
        epoll_ctl(epfd, EPOLL_CTL_DEL, 0, NULL);
        return;
    }
    for (ssize_t i = 0; i < r; i++) {
        if (tmp[i] != '\n') {
            if (stdin_len < sizeof stdin_line - 1) stdin_line[stdin_len++] = tmp[i];
            continue;
        }
        stdin_line[stdin_len] = 0;
        stdin_len = 0;
        if (strcmp(stdin_line, "stats") == 0) {
            report(stdout);
        } else if (strncmp(stdin_line, "reset", 5) == 0) {
            long m = -1;
            if (stdin_line[5] == ' ') m = strtol(stdin_line + 6, NULL, 10);
            reset_interval(m);
            printf("ok\n");
            fflush(stdout);
        } else if (stdin_line[0]) {
            fprintf(stderr, "loadgen: unknown command %s\n", stdin_line);
        }
    }
}

static void run_timers(void) {
    if (!fifo_count) return;
    int64_t now = mono_us();
    while (fifo_count && fifo_deadline[fifo_head] <= now) {
        struct client *c = &clients[fifo_client[fifo_head]];
        fifo_head = (fifo_head + 1) % opt_clients;
        fifo_count--;
        if (c->state == ST_OPEN && c->ack_pending) {
            c->ack_pending = 0;
            send_ack(c, c->ack_n);
        }
    }
}

static int next_timeout_ms(void) {
    double now = mono_now(), next = -1;
    if (fifo_count) next = fifo_deadline[fifo_head] / 1e6;
    if (!announced && (next < 0 || join_deadline < next)) next = join_deadline;
    if (announced && end_deadline > 0 && (next < 0 || end_deadline < next)) next = end_deadline;
    if (next < 0) return -1;
    if (next <= now) return 0;
    return (int)((next - now) * 1000) + 1;
}

/* After the report: a close frame (1000) to every open client, then wait up to --linger seconds
   for the servers to answer or hang up, so a server sees clean closes rather than resets. */
static void close_all(void) {
    closing = 1;
    long open = 0;
    for (long i = 0; i < opt_clients; i++) {
        struct client *c = &clients[i];
        if (c->state == ST_OPEN) {
            send_frame(c, 0x8, "\x03\xe8", 2);
            if (c->state == ST_OPEN) open++;
        } else if (c->state != ST_CLOSED && c->state != ST_IDLE) {
            lose(c, "");
        }
    }
    double deadline = mono_now() + opt_linger;
    struct epoll_event evs[1024];
    while (open > 0) {
        double left = deadline - mono_now();
        if (left <= 0) break;
        int n = epoll_wait(epfd, evs, 1024, (int)(left * 1000) + 1);
        if (n < 0 && errno != EINTR) break;
        for (int i = 0; i < n; i++) {
            if (evs[i].data.u64 == STDIN_TAG) {
                epoll_ctl(epfd, EPOLL_CTL_DEL, 0, NULL);
                continue;
            }
            struct client *c = &clients[evs[i].data.u64];
            int was_open = c->state == ST_OPEN;
            on_client_event(c, evs[i].events);
            if (was_open && c->state == ST_CLOSED) open--;
        }
    }
}

static void on_signal(int sig) {
    (void)sig;
    stop_requested = 1;
}

static void usage(FILE *f) {
    fputs("usage: loadgen --host H --port P --clients N --path '/x/{i}' [--hello TEXT]...\n"
          "  [--joined-prefix TEXT] [--reply-exact 'MATCH=>TEXT']... [--reply-prefix 'PREFIX=>TEXT']...\n"
          "  [--ack none|each|burst] [--ack-after-ms MS] [--messages M] [--concurrency C]\n"
          "  [--join-timeout S] [--duration S] [--pace-us US] [--linger S]\n",
          f);
}

static void add_rule(int exact, const char *spec) {
    const char *sep = strstr(spec, "=>");
    if (!sep) {
        fprintf(stderr, "loadgen: a reply rule needs MATCH=>TEXT: %s\n", spec);
        exit(2);
    }
    rules = xrealloc(rules, (size_t)(n_rules + 1) * sizeof *rules);
    rules[n_rules++] = (struct reply_rule){exact, spec, (size_t)(sep - spec), sep + 2, strlen(sep + 2)};
}

static long parse_long(const char *s, const char *what) {
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == 0 || *end != 0 || v < 0) {
        fprintf(stderr, "loadgen: bad %s: %s\n", what, s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv) {
    static const struct option longopts[] = {
        {"host", required_argument, 0, 'H'},          {"port", required_argument, 0, 'p'},
        {"clients", required_argument, 0, 'n'},       {"path", required_argument, 0, 'P'},
        {"hello", required_argument, 0, 'e'},         {"joined-prefix", required_argument, 0, 'j'},
        {"reply-exact", required_argument, 0, 'x'},   {"reply-prefix", required_argument, 0, 'r'},
        {"ack", required_argument, 0, 'a'},           {"ack-after-ms", required_argument, 0, 'A'},
        {"messages", required_argument, 0, 'm'},      {"concurrency", required_argument, 0, 'c'},
        {"join-timeout", required_argument, 0, 'T'},  {"duration", required_argument, 0, 'd'},
        {"pace-us", required_argument, 0, 'u'},       {"linger", required_argument, 0, 'L'},
              {"help", no_argument, 0, 'h'},                {0, 0, 0, 0},
    };
    int o;
    while ((o = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (o) {
        case 'H': opt_host = optarg; break;
        case 'p': opt_port = optarg; break;
        case 'n': opt_clients = parse_long(optarg, "--clients"); break;
        case 'P': opt_path = optarg; break;
        case 'e':
            opt_hello = xrealloc(opt_hello, (size_t)(n_hello + 1) * sizeof *opt_hello);
            opt_hello[n_hello++] = optarg;
            break;
        case 'j':
            opt_joined_prefix = optarg;
            joined_prefix_len = strlen(optarg);
            break;
        case 'x': add_rule(1, optarg); break;
        case 'r': add_rule(0, optarg); break;
        case 'a':
            if (strcmp(optarg, "none") == 0) opt_ack = ACK_NONE;
            else if (strcmp(optarg, "each") == 0) opt_ack = ACK_EACH;
            else if (strcmp(optarg, "burst") == 0) opt_ack = ACK_BURST;
            else {
                fprintf(stderr, "loadgen: --ack must be none, each or burst\n");
                return 2;
            }
            break;
        case 'A': opt_ack_after_ms = parse_long(optarg, "--ack-after-ms"); break;
        case 'm': opt_messages = parse_long(optarg, "--messages"); break;
        case 'c': opt_concurrency = parse_long(optarg, "--concurrency"); break;
        case 'T': opt_join_timeout = atof(optarg); break;
        case 'd': opt_duration = atof(optarg); break;
        case 'L': opt_linger = atof(optarg); break;
        case 'u': opt_pace_us = parse_long(optarg, "--pace-us"); break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc || opt_clients < 1 || opt_concurrency < 1) {
        usage(stderr);
        return 2;
    }

    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (getrandom(&rng_state, sizeof rng_state, 0) != sizeof rng_state) rng_state = (uint64_t)real_us();

    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
    int gai = getaddrinfo(opt_host, opt_port, &hints, &ai);
    if (gai) {
        fprintf(stderr, "loadgen: %s:%s: %s\n", opt_host, opt_port, gai_strerror(gai));
        return 2;
    }
    memcpy(&server_addr, ai->ai_addr, ai->ai_addrlen);
    server_addrlen = ai->ai_addrlen;
    freeaddrinfo(ai);
    snprintf(host_header, sizeof host_header, strchr(opt_host, ':') ? "[%s]:%s" : "%s:%s", opt_host,
             opt_port);

    clients = calloc((size_t)opt_clients, sizeof *clients);
    fifo_deadline = calloc((size_t)opt_clients, sizeof *fifo_deadline);
    fifo_client = calloc((size_t)opt_clients, sizeof *fifo_client);
    readbuf = malloc(READ_SIZE);
    if (!clients || !fifo_deadline || !fifo_client || !readbuf) die("calloc");
    for (long i = 0; i < opt_clients; i++) clients[i].fd = -1;
    per_message_len = opt_messages;
    per_message = xrealloc(NULL, (size_t)(opt_messages ? opt_messages : 1) * sizeof *per_message);
    memset(per_message, 0, (size_t)(opt_messages ? opt_messages : 1) * sizeof *per_message);

    /* SIGTERM/SIGINT are blocked except inside epoll_pwait, so a signal can't be missed. */
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    sigset_t block, waitmask;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigprocmask(SIG_BLOCK, &block, &waitmask);
    sigdelset(&waitmask, SIGTERM);
    sigdelset(&waitmask, SIGINT);

    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) die("epoll_create1");
    fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
    struct epoll_event sev = {.events = EPOLLIN};
    sev.data.u64 = STDIN_TAG;
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, 0, &sev) < 0) {
        stdin_open = 0; /* a regular file or /dev/null: stop with SIGTERM or --duration */
        fprintf(stderr, "loadgen: stdin can't be watched (%s); stop with SIGTERM or --duration\n",
                strerror(errno));
    }

    start_mono = mono_now();
    join_deadline = start_mono + opt_join_timeout;
    start_more();

    struct epoll_event evs[1024];
    while (!stop_requested) {
        print_announce();
        if (announced && end_deadline > 0 && mono_now() >= end_deadline) break;
        int n = epoll_pwait(epfd, evs, 1024, next_timeout_ms(), &waitmask);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("epoll_pwait");
        }
        if (n > 0) wakeups++;
        for (int i = 0; i < n; i++) {
            if (evs[i].data.u64 == STDIN_TAG)
                on_stdin();
            else
                on_client_event(&clients[evs[i].data.u64], evs[i].events);
        }
        run_timers();
        /* Pacing: after a small batch, let more events gather before the next wakeup. Each
           wakeup is a context switch, which costs more than the few events it brings. */
        if (opt_pace_us > 0 && n > 0 && n < 256) {
            struct timespec ts = {opt_pace_us / 1000000, (opt_pace_us % 1000000) * 1000};
            nanosleep(&ts, NULL);
        }
    }
    report(stdout);
    close_all();
    return 0;
}

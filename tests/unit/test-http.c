/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The curl/sd-event glue against real sockets on loopback: a tiny one-shot
 * HTTP responder on the same loop, a port nobody listens on, and a listener
 * that never answers (for the timeout).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "http.h"
#include "test.h"

typedef struct Server {
        int listen_fd;
        int port;
        const char *response;
        sd_event_source *src;
        char request[4096];
        size_t request_len;
        unsigned accepted; /* connections: one request each (Connection: close) */
} Server;

static int listen_loopback(int *ret_port)
{
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t l = sizeof(a);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        ASSERT(fd >= 0);
        ASSERT(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
        ASSERT(listen(fd, 8) == 0);
        ASSERT(getsockname(fd, (struct sockaddr *)&a, &l) == 0);
        *ret_port = ntohs(a.sin_port);
        return fd;
}

/* Reads without blocking (curl runs on this same loop) until the request is whole. */
static int on_readable(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        Server *srv = userdata;
        const char *end, *cl;
        ssize_t n;

        (void)revents;
        n = read(fd, srv->request + srv->request_len, sizeof(srv->request) - 1 - srv->request_len);
        if (n < 0 && errno == EAGAIN)
                return 0;
        ASSERT(n > 0);
        srv->request_len += (size_t)n;
        srv->request[srv->request_len] = 0;
        end = strstr(srv->request, "\r\n\r\n");
        if (!end)
                return 0;
        cl = strcasestr(srv->request, "Content-Length: ");
        if (cl && (size_t)(srv->request + srv->request_len - (end + 4)) < (size_t)atoi(cl + 16))
                return 0;
        ASSERT(write(fd, srv->response, strlen(srv->response)) == (ssize_t)strlen(srv->response));
        sd_event_source_disable_unref(s);
        close(fd);
        return 0;
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        Server *srv = userdata;
        int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

        (void)s, (void)revents;
        ASSERT(c >= 0);
        srv->accepted++;
        srv->request_len = 0;
        ASSERT(sd_event_add_io(sd_event_source_get_event(s), NULL, c, EPOLLIN, on_readable, srv) >=
               0);
        return 0;
}

typedef struct Got {
        bool done;
        int curl_code;
        long status;
        char *body;
        char *location;
        bool truncated;
} Got;

static void on_done(HttpSession *s, const HttpResponse *resp, void *userdata)
{
        Got *g = userdata;

        (void)s;
        g->done = true;
        g->curl_code = resp->curl_code;
        g->status = resp->status;
        g->body = strdup(resp->body->data ?: "");
        g->location = resp->location ? strdup(resp->location) : NULL;
        g->truncated = resp->body_truncated;
}

static Got fetch(sd_event *e, HttpClient *c, const char *url, const char *form, uint64_t timeout,
                 size_t body_max)
{
        _cleanup_(http_session_freep) HttpSession *s = NULL;
        Got g = {};

        ASSERT(http_session_new(&s, c,
                                &(HttpOptions){.timeout_usec = timeout,
                                               .tls_verify = true,
                                               .body_max = body_max}) == 0);
        ASSERT(http_session_add_header(s, "X-Test: yes") == 0);
        ASSERT(http_session_request(s, url, form, (char *[]){"Referer: here", NULL}, on_done, &g) ==
               0);
        ASSERT(http_session_request(s, url, NULL, NULL, on_done, &g) == -EBUSY);
        while (!g.done)
                ASSERT(sd_event_run(e, UINT64_MAX) >= 0);
        return g;
}

static void got_done(Got *g)
{
        free(g->body);
        free(g->location);
}

static void test_get_and_post(sd_event *e, HttpClient *c)
{
        Server srv = {
                .response =
                        "HTTP/1.1 302 Found\r\nLocation: /next/\r\nSet-Cookie: sessionid=abc; HttpOnly; Path=/\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"};
        _cleanup_free_ char *url = NULL;
        Got g;

        srv.listen_fd = listen_loopback(&srv.port);
        ASSERT(sd_event_add_io(e, &srv.src, srv.listen_fd, EPOLLIN, on_accept, &srv) >= 0);
        url = strjoin_printf("http://127.0.0.1:%d/login/", srv.port);

        g = fetch(e, c, url, "a=1&b=2", 5 * USEC_PER_SEC, 1024);
        ASSERT(g.curl_code == 0 && g.status == 302);
        ASSERT_STREQ(g.body, "hello");
        ASSERT(g.location && endswith(g.location, "/next/"));
        ASSERT(startswith(srv.request, "POST /login/ HTTP/1.1\r\n"));
        ASSERT(strstr(srv.request, "X-Test: yes\r\n") && strstr(srv.request, "Referer: here\r\n"));
        ASSERT(endswith(srv.request, "a=1&b=2"));
        got_done(&g);

        /* Body over the limit: cut, flagged, and the response still counts. */
        g = fetch(e, c, url, NULL, 5 * USEC_PER_SEC, 3);
        ASSERT(g.curl_code == 0 && g.status == 302 && g.truncated);
        ASSERT(startswith(srv.request, "GET /login/ HTTP/1.1\r\n"));
        got_done(&g);

        sd_event_source_disable_unref(srv.src);
        close(srv.listen_fd);
}

static void test_refused(sd_event *e, HttpClient *c)
{
        _cleanup_free_ char *url = NULL;
        int port, fd = listen_loopback(&port);
        Got g;

        close(fd); /* nobody listens there now */
        url = strjoin_printf("http://127.0.0.1:%d/", port);
        g = fetch(e, c, url, NULL, 5 * USEC_PER_SEC, 1024);
        ASSERT(g.curl_code == 7 /* CURLE_COULDNT_CONNECT */ && g.status == 0);
        got_done(&g);
}

static void test_timeout(sd_event *e, HttpClient *c)
{
        _cleanup_free_ char *url = NULL;
        int port, fd = listen_loopback(&port); /* accepts in the backlog, never answers */
        uint64_t t0 = now_usec();
        Got g;

        url = strjoin_printf("http://127.0.0.1:%d/", port);
        g = fetch(e, c, url, NULL, 300 * USEC_PER_MSEC, 1024);
        ASSERT(g.curl_code == 28 /* CURLE_OPERATION_TIMEDOUT */);
        ASSERT(now_usec() - t0 >= 300 * USEC_PER_MSEC);
        got_done(&g);
        close(fd);
}

static void test_no_other_protocols(sd_event *e, HttpClient *c)
{
        Got g = fetch(e, c, "file:///etc/passwd", NULL, USEC_PER_SEC, 1024);

        ASSERT(g.curl_code == 1 /* CURLE_UNSUPPORTED_PROTOCOL */);
        got_done(&g);
}

static HttpSession *cached_session(HttpClient *c, HttpCache *cache, const char *header)
{
        HttpSession *s = NULL;

        ASSERT(http_session_new(
                       &s, c, &(HttpOptions){.timeout_usec = 5 * USEC_PER_SEC, .body_max = 1024}) ==
               0);
        ASSERT(http_session_add_header(s, header) == 0);
        ASSERT(http_session_set_cache(s, cache) == 0);
        return s;
}

static void wait_for(sd_event *e, const Got *g)
{
        while (!g->done)
                ASSERT(sd_event_run(e, UINT64_MAX) >= 0);
}

/*
 * The run's cache: a request the same as one in flight waits for it, one the
 * same as one answered is answered at once, anything different (another
 * credential header, another form) is asked; the sessions share one cookie
 * store; a session freed while others wait for its answer hands the request on.
 */
static void test_cache(sd_event *e, HttpClient *c)
{
        Server srv = {
                .response =
                        "HTTP/1.1 200 OK\r\nSet-Cookie: csrftoken=tok; Path=/\r\nContent-Length: 4\r\nConnection: close\r\n\r\npage"};
        _cleanup_(http_cache_freep) HttpCache *cache = NULL;
        _cleanup_free_ char *url = NULL, *other = NULL;
        HttpSession *a, *b, *d;
        Got ga = {}, gb = {}, gd = {};

        srv.listen_fd = listen_loopback(&srv.port);
        ASSERT(sd_event_add_io(e, &srv.src, srv.listen_fd, EPOLLIN, on_accept, &srv) >= 0);
        url = strjoin_printf("http://127.0.0.1:%d/api/status/", srv.port);
        other = strjoin_printf("http://127.0.0.1:%d/login/", srv.port);
        ASSERT(http_cache_new(&cache, e) == 0);

        /* Two at once: one request, both answered with it. */
        a = cached_session(c, cache, "Authorization: Token t1");
        b = cached_session(c, cache, "Authorization: Token t1");
        ASSERT(http_session_request(a, url, NULL, NULL, on_done, &ga) == 0);
        ASSERT(http_session_request(b, url, NULL, NULL, on_done, &gb) == 0);
        ASSERT(http_session_request(b, url, NULL, NULL, on_done, &gb) == -EBUSY);
        wait_for(e, &ga);
        wait_for(e, &gb);
        ASSERT(srv.accepted == 1 && http_cache_hits(cache) == 1);
        ASSERT(ga.status == 200 && gb.status == 200 && gb.curl_code == 0);
        ASSERT_STREQ(gb.body, "page");
        got_done(&ga);
        got_done(&gb);

        /* Answered before: at once (on the next loop iteration, never inside the call). */
        gb = (Got){};
        ASSERT(http_session_request(b, url, NULL, NULL, on_done, &gb) == 0);
        ASSERT(!gb.done);
        wait_for(e, &gb);
        ASSERT(srv.accepted == 1 && http_cache_hits(cache) == 2);
        got_done(&gb);

        /* Another token, or a form: asked, and with the cookie the first answer set. */
        d = cached_session(c, cache, "Authorization: Token t2");
        ASSERT(http_session_request(d, url, NULL, NULL, on_done, &gd) == 0);
        wait_for(e, &gd);
        ASSERT(srv.accepted == 2 && http_cache_hits(cache) == 2);
        ASSERT(strstr(srv.request, "Authorization: Token t2\r\n"));
        ASSERT(strstr(srv.request, "Cookie: csrftoken=tok\r\n"));
        got_done(&gd);
        gd = (Got){};
        ASSERT(http_session_request(d, url, "x=1", NULL, on_done, &gd) == 0);
        wait_for(e, &gd);
        ASSERT(srv.accepted == 3 && startswith(srv.request, "POST /api/status/"));
        got_done(&gd);

        /* The one asking is freed while another waits: the other asks itself. */
        ga = gb = (Got){};
        ASSERT(http_session_request(a, other, NULL, NULL, on_done, &ga) == 0);
        ASSERT(http_session_request(b, other, NULL, NULL, on_done, &gb) == 0);
        a = http_session_free(a);
        wait_for(e, &gb);
        ASSERT(!ga.done && gb.curl_code == 0 && gb.status == 200);
        ASSERT(srv.accepted == 4);
        got_done(&gb);

        http_session_free(b);
        http_session_free(d);
        sd_event_source_disable_unref(srv.src);
        close(srv.listen_fd);
}

static int on_listen_late(sd_event_source *src, uint64_t usec, void *userdata)
{
        Server *srv = userdata;
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                                .sin_port = htons(srv->port)};
        int one = 1;

        (void)usec;
        srv->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ASSERT(srv->listen_fd >= 0);
        ASSERT(setsockopt(srv->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0);
        ASSERT(bind(srv->listen_fd, (struct sockaddr *)&a, sizeof(a)) == 0);
        ASSERT(listen(srv->listen_fd, 8) == 0);
        ASSERT(sd_event_add_io(sd_event_source_get_event(src), &srv->src, srv->listen_fd, EPOLLIN,
                               on_accept, srv) >= 0);
        return 0;
}

/*
 * A web server restarted a moment ago refuses connections while it boots: with
 * retry_unanswered_usec the request is sent again until it answers; without,
 * the refusal is the answer.
 */
static void test_retry_unanswered(sd_event *e, HttpClient *c)
{
        Server srv = {
                .response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nup"};
        _cleanup_(http_session_freep) HttpSession *s = NULL;
        _cleanup_free_ char *url = NULL;
        sd_event_source *late = NULL;
        uint64_t t0 = now_usec();
        Got g = {};

        close(listen_loopback(&srv.port)); /* nobody listens there, for now */
        url = strjoin_printf("http://127.0.0.1:%d/api/status/", srv.port);
        ASSERT(sd_event_add_time_relative(e, &late, CLOCK_MONOTONIC, 600 * USEC_PER_MSEC, 0,
                                          on_listen_late, &srv) >= 0);
        ASSERT(http_session_new(&s, c,
                                &(HttpOptions){.timeout_usec = 5 * USEC_PER_SEC,
                                               .body_max = 1024,
                                               .retry_unanswered_usec = 5 * USEC_PER_SEC}) == 0);
        ASSERT(http_session_request(s, url, NULL, NULL, on_done, &g) == 0);
        wait_for(e, &g);
        ASSERT(g.curl_code == 0 && g.status == 200 && srv.accepted == 1);
        ASSERT_STREQ(g.body, "up");
        ASSERT(now_usec() - t0 >= 600 * USEC_PER_MSEC);
        got_done(&g);
        sd_event_source_unref(late);
        sd_event_source_disable_unref(srv.src);
        close(srv.listen_fd);
}

int main(void)
{
        sd_event *e = NULL;
        HttpClient *c = NULL;

        ASSERT(sd_event_new(&e) >= 0);
        ASSERT(http_client_new(&c, e) == 0);
        test_get_and_post(e, c);
        printf("ok - test_get_and_post\n");
        test_refused(e, c);
        printf("ok - test_refused\n");
        test_timeout(e, c);
        printf("ok - test_timeout\n");
        test_no_other_protocols(e, c);
        printf("ok - test_no_other_protocols\n");
        test_cache(e, c);
        printf("ok - test_cache\n");
        test_retry_unanswered(e, c);
        printf("ok - test_retry_unanswered\n");
        http_client_free(c);
        sd_event_unref(e);
        return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Secrets are wiped before their memory is freed, on every path: this test
 * replaces free() with one that scans each block for a canary secret before
 * releasing it, then reads secrets that are refused, and sends a token header
 * and a login form through curl to a real loopback listener. It also checks
 * the clear-text warning of the token-sending checks.
 *
 * The scan needs glibc's allocator underneath: under ASan or valgrind (which
 * bring their own) it is skipped, with the reason printed.
 */
#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "check.h"
#include "http.h"
#include "test.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NVD_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define NVD_ASAN 1
#endif

#define CANARY "Canary-S3cret-7f3a9c"

static bool scanning;
static unsigned unwiped;

#ifndef NVD_ASAN
void __libc_free(void *p);
void free(void *p);

/* Counts blocks freed with the canary still in them. */
void free(void *p)
{
        if (p && scanning) {
                size_t n = malloc_usable_size(p);

                if (n >= sizeof(CANARY) - 1 && memmem(p, n, CANARY, sizeof(CANARY) - 1))
                        unwiped++;
        }
        __libc_free(p);
}
#endif

static char *write_temp(const char *text, size_t len)
{
        char *path = strdup("/tmp/nvd-test-secrets-XXXXXX");
        int fd = mkstemp(path);

        ASSERT(fd >= 0);
        ASSERT(write(fd, text, len) == (ssize_t)len);
        close(fd);
        return path;
}

static void expect_wiped(const char *what)
{
        if (unwiped > 0) {
                fprintf(stderr, "%s: %u block(s) freed with the secret still in them\n", what,
                        unwiped);
                abort();
        }
}

/* Refused secrets (control characters, two lines, a NUL) are wiped too. */
static void test_read_secret_refused(void)
{
        static const char bad1[] = CANARY "\x01\n", bad2[] = CANARY "\nsecond line\n",
                          bad3[] = CANARY "\0tail\n";
        const struct {
                const char *text;
                size_t len;
        } cases[] = {
                {bad1, sizeof(bad1) - 1},
                {bad2, sizeof(bad2) - 1},
                {bad3, sizeof(bad3) - 1},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *path = write_temp(cases[i].text, cases[i].len);
                char *v = NULL;

                unwiped = 0;
                scanning = true;
                ASSERT(config_read_secret(path, NULL, &v, NULL, NULL) == -EBADMSG);
                scanning = false;
                ASSERT(!v);
                expect_wiped("config_read_secret");
                unlink(path);
        }
}

typedef struct Server {
        int fd;
        char request[8192];
        size_t len;
        bool answered;
} Server;

static int on_conn(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        static const char resp[] = "HTTP/1.1 302 Found\r\nLocation: /\r\nContent-Length: 0\r\n"
                                   "Connection: close\r\n\r\n";
        Server *srv = userdata;
        const char *end;
        ssize_t n;

        (void)revents;
        n = read(fd, srv->request + srv->len, sizeof(srv->request) - 1 - srv->len);
        if (n < 0 && errno == EAGAIN)
                return 0;
        ASSERT(n > 0);
        srv->len += (size_t)n;
        srv->request[srv->len] = 0;
        end = strstr(srv->request, "\r\n\r\n");
        if (!end || !strstr(end, "password=")) /* the body may come in a second packet */
                return 0;
        ASSERT(write(fd, resp, sizeof(resp) - 1) == (ssize_t)(sizeof(resp) - 1));
        srv->answered = true;
        sd_event_source_disable_unref(s);
        close(fd);
        return 0;
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

        (void)revents;
        ASSERT(c >= 0);
        ASSERT(sd_event_add_io(sd_event_source_get_event(s), NULL, c, EPOLLIN, on_conn, userdata) >=
               0);
        return 0;
}

static void on_done(HttpSession *h, const HttpResponse *resp, void *userdata)
{
        (void)h;
        ASSERT(resp->curl_code == 0 && resp->status == 302);
        *(bool *)userdata = true;
}

/* The token header and the login form, through curl and back: nothing freed unwiped. */
static void test_http_wipes(sd_event *e)
{
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t l = sizeof(a);
        static Server srv;
        _cleanup_(http_client_freep) HttpClient *client = NULL;
        HttpSession *s = NULL;
        sd_event_source *listener = NULL;
        char url[64];
        bool done = false;
        int fd;

        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        ASSERT(fd >= 0);
        ASSERT(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
        ASSERT(listen(fd, 8) == 0);
        ASSERT(getsockname(fd, (struct sockaddr *)&a, &l) == 0);
        snprintf(url, sizeof(url), "http://127.0.0.1:%d/login/", ntohs(a.sin_port));
        ASSERT(sd_event_add_io(e, &listener, fd, EPOLLIN, on_accept, &srv) >= 0);

        ASSERT(http_client_new(&client, e) == 0);
        unwiped = 0;
        scanning = true;
        ASSERT(http_session_new(&s, client,
                                &(HttpOptions){.timeout_usec = 5 * USEC_PER_SEC,
                                               .tls_verify = true,
                                               .body_max = 65536}) == 0);
        ASSERT(http_session_add_header(s, "Authorization: Token " CANARY) == 0);
        ASSERT(http_session_request(s, url, "username=u&password=" CANARY, NULL, on_done, &done) ==
               0);
        while (!done)
                ASSERT(sd_event_run(e, UINT64_MAX) >= 0);
        s = http_session_free(s);
        client = http_client_free(client);
        scanning = false;
        ASSERT(srv.answered);
        ASSERT(strstr(srv.request, "Authorization: Token " CANARY));
        ASSERT(strstr(srv.request, "password=" CANARY));
        explicit_bzero(srv.request, sizeof(srv.request));
        expect_wiped("the HTTP session");
        sd_event_source_disable_unref(listener);
        close(fd);
}

static void on_check_done(Check *c, void *userdata)
{
        (void)c, (void)userdata;
}

/* The token crosses the network in clear over http:// to another host: a finding says so. */
static void test_cleartext_finding(sd_event *e)
{
        static const struct {
                const char *url;
                bool warn;
        } cases[] = {
                {"http://nautobot.example.com", true}, {"http://10.0.0.5:8080", true},
                {"http://127.0.0.1:8080", false},      {"http://localhost:8080", false},
                {"http://[::1]:8080", false},          {"https://nautobot.example.com", false},
        };
        _cleanup_(http_client_freep) HttpClient *client = NULL;
        _cleanup_(config_freep) Config *cfg = NULL;

        ASSERT(config_new(&cfg) == 0);
        ASSERT(http_client_new(&client, e) == 0);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(check_result_freep) CheckResult *res = NULL;
                _cleanup_(http_session_freep) HttpSession *h = NULL;
                CheckEnv env = {.event = e, .http = client, .config = cfg, .token = "t"};
                Check c = {.id = CHECK_ID_JOBS, .env = &env, .done = on_check_done};
                bool found = false;

                ASSERT(free_and_strdup(&cfg->url, cases[i].url) == 0);
                ASSERT(check_result_new(&res, "jobs") == 0);
                c.result = res;
                ASSERT(check_api_session(&c, &h) == 0 && h);
                STRV_FOREACH (f, res->findings)
                        if (strstr(*f, "API token is sent in clear text"))
                                found = true;
                if (found != cases[i].warn) {
                        fprintf(stderr, "%s: clear-text finding %s\n", cases[i].url,
                                found ? "given" : "missing");
                        abort();
                }
        }
}

int main(void)
{
        sd_event *e = NULL;
        const char *preload = getenv("LD_PRELOAD");

        ASSERT(sd_event_new(&e) >= 0);
        test_cleartext_finding(e);
        printf("ok - test_cleartext_finding\n");
#ifdef NVD_ASAN
        printf("skipped: the wipe scan replaces free(), which ASan owns\n");
        sd_event_unref(e);
        return 77;
#endif
        if (preload && strstr(preload, "vgpreload")) {
                printf("skipped: the wipe scan replaces free(), which valgrind owns\n");
                sd_event_unref(e);
                return 77;
        }
        RUN(test_read_secret_refused);
        test_http_wipes(e);
        printf("ok - test_http_wipes\n");
        sd_event_unref(e);
        return 0;
}

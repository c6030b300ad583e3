/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libcurl's multi interface glued to sd-event: curl tells us which sockets to
 * watch and when to wake it; we turn those into io and timer sources and hand
 * readiness back with curl_multi_socket_action(). See http.h.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <malloc.h>
#include <strings.h>

#include "http-internal.h"

#define HTTP_CONNECT_TIMEOUT_MAX_USEC (10 * USEC_PER_SEC)

static void client_check_finished(HttpClient *c);

static int on_io(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
        HttpClient *c = userdata;
        int action = 0, running;

        (void)src;
        if (revents & EPOLLIN)
                action |= CURL_CSELECT_IN;
        if (revents & EPOLLOUT)
                action |= CURL_CSELECT_OUT;
        if (revents & (EPOLLERR | EPOLLHUP))
                action |= CURL_CSELECT_ERR;
        if (curl_multi_socket_action(c->multi, fd, action, &running) != CURLM_OK)
                return -EIO;
        client_check_finished(c);
        return 0;
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
        HttpClient *c = userp;
        sd_event_source *io = socketp;
        uint32_t events = 0;
        int r;

        (void)easy;
        if (what == CURL_POLL_REMOVE) {
                if (io) {
                        sd_event_source_disable_unref(io);
                        curl_multi_assign(c->multi, fd, NULL);
                }
                return 0;
        }
        if (what & CURL_POLL_IN)
                events |= EPOLLIN;
        if (what & CURL_POLL_OUT)
                events |= EPOLLOUT;

        if (io) {
                r = sd_event_source_set_io_events(io, events);
                if (r >= 0)
                        r = sd_event_source_set_enabled(io, SD_EVENT_ON);
                return r < 0 ? -1 : 0;
        }
        r = sd_event_add_io(c->event, &io, fd, events, on_io, c);
        if (r < 0)
                return -1;
        (void)sd_event_source_set_description(io, "http-socket");
        if (curl_multi_assign(c->multi, fd, io) != CURLM_OK) {
                sd_event_source_disable_unref(io);
                return -1;
        }
        return 0;
}

static int on_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
        HttpClient *c = userdata;
        int running;

        (void)src, (void)usec;
        if (curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running) != CURLM_OK)
                return -EIO;
        client_check_finished(c);
        return 0;
}

static int on_timer_change(CURLM *multi, long timeout_ms, void *userp)
{
        HttpClient *c = userp;
        uint64_t now, when;
        int r;

        (void)multi;
        if (timeout_ms < 0)
                return c->timer ? (sd_event_source_set_enabled(c->timer, SD_EVENT_OFF) < 0 ? -1 : 0)
                                : 0;
        r = sd_event_now(c->event, CLOCK_MONOTONIC, &now);
        if (r < 0)
                return -1;
        when = now + (uint64_t)timeout_ms * USEC_PER_MSEC;
        if (c->timer) {
                r = sd_event_source_set_time(c->timer, when);
                if (r >= 0)
                        r = sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT);
                return r < 0 ? -1 : 0;
        }
        /* curl's timers are short and on the request's path: an accuracy of 0 would be
         * sd-event's default of 250 ms, a quarter second added to every request. */
        r = sd_event_add_time(c->event, &c->timer, CLOCK_MONOTONIC, when, USEC_PER_MSEC, on_timer,
                              c);
        if (r < 0)
                return -1;
        (void)sd_event_source_set_description(c->timer, "http-timer");
        return 0;
}

/*
 * curl copies what we hand it (headers into its request buffer, cookies, the
 * form for small POSTs) and frees those copies itself: its allocator wipes
 * every block before releasing it, so a token or password never lingers in
 * freed heap. The cost is a memset per free, nothing next to the I/O.
 */
static void wiping_free(void *p)
{
        if (p)
                explicit_bzero(p, malloc_usable_size(p));
        free(p);
}

static void *wiping_realloc(void *p, size_t n)
{
        size_t old;
        void *q;

        if (!p)
                return malloc(n);
        if (n == 0) {
                wiping_free(p);
                return NULL;
        }
        /* Never let realloc move a block and leave the old copy behind. */
        old = malloc_usable_size(p);
        if (n <= old)
                return p;
        q = malloc(n);
        if (!q)
                return NULL;
        memcpy(q, p, old);
        wiping_free(p);
        return q;
}

static char *wiping_strdup(const char *s)
{
        return strdup(s);
}

/*
 * This libcurl (7.88) opens its connections without SOCK_CLOEXEC: ours are, from
 * birth. (Its multi handle's socketpair is not ours to open: child.c closes
 * whatever a child would inherit beyond its own descriptors.)
 */
static curl_socket_t on_open_socket(void *clientp, curlsocktype purpose,
                                    struct curl_sockaddr *address)
{
        (void)clientp, (void)purpose;
        return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

/* Frees a header list with its entries wiped first (one of them holds the API token). */
static void slist_free_erase(struct curl_slist *l)
{
        for (struct curl_slist *i = l; i; i = i->next)
                explicit_bzero(i->data, strlen(i->data));
        curl_slist_free_all(l);
}

void http_session_form_erase(HttpSession *s)
{
        if (s->form)
                explicit_bzero(s->form, s->form_len);
        s->form = mfree(s->form);
        s->form_len = 0;
}

int http_global_init(void)
{
        /* The first call in the process decides the allocator; later ones only count. */
        if (curl_global_init_mem(CURL_GLOBAL_DEFAULT, malloc, wiping_free, wiping_realloc,
                                 wiping_strdup, calloc) != CURLE_OK)
                return -EIO;
        return 0;
}

int http_client_new(HttpClient **ret, sd_event *e)
{
        HttpClient *c;

        if (http_global_init() < 0)
                return -EIO;
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->event = sd_event_ref(e);
        c->multi = curl_multi_init();
        if (!c->multi ||
            curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket) != CURLM_OK ||
            curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c) != CURLM_OK ||
            curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_timer_change) != CURLM_OK ||
            curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c) != CURLM_OK) {
                http_client_free(c);
                return -ENOMEM;
        }
        *ret = c;
        return 0;
}

HttpClient *http_client_free(HttpClient *c)
{
        if (!c)
                return NULL;
        if (c->multi)
                curl_multi_cleanup(c->multi);
        sd_event_source_disable_unref(c->timer);
        sd_event_unref(c->event);
        free(c);
        return NULL;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
        HttpSession *s = userdata;
        size_t n = size * nmemb;

        if (buf_append(&s->body, ptr, n) < 0 || s->body.truncated)
                return 0; /* makes curl fail with CURLE_WRITE_ERROR */
        return n;
}

int http_session_new(HttpSession **ret, HttpClient *c, const HttpOptions *o)
{
        _cleanup_(http_session_freep) HttpSession *s = NULL;
        uint64_t connect = o->timeout_usec;
        bool ok;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->client = c;
        s->options = *o;
        buf_init(&s->body, o->body_max);
        s->easy = curl_easy_init();
        if (!s->easy)
                return -ENOMEM;
        if (connect > HTTP_CONNECT_TIMEOUT_MAX_USEC)
                connect = HTTP_CONNECT_TIMEOUT_MAX_USEC;

        ok = curl_easy_setopt(s->easy, CURLOPT_PRIVATE, s) == CURLE_OK &&
             curl_easy_setopt(s->easy, CURLOPT_ERRORBUFFER, s->errbuf) == CURLE_OK &&
             curl_easy_setopt(s->easy, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
             curl_easy_setopt(s->easy, CURLOPT_TIMEOUT_MS,
                              (long)(o->timeout_usec / USEC_PER_MSEC)) == CURLE_OK &&
             curl_easy_setopt(s->easy, CURLOPT_CONNECTTIMEOUT_MS,
                              (long)(connect / USEC_PER_MSEC)) == CURLE_OK &&
             curl_easy_setopt(s->easy, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
             curl_easy_setopt(s->easy, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
             curl_easy_setopt(s->easy, CURLOPT_COOKIEFILE, "") == CURLE_OK &&
             curl_easy_setopt(s->easy, CURLOPT_USERAGENT, "nautobot-verifyd/" PROJECT_VERSION) ==
                     CURLE_OK &&
             curl_easy_setopt(s->easy, CURLOPT_ACCEPT_ENCODING, "") == CURLE_OK &&
             curl_easy_setopt(s->easy, CURLOPT_SSL_VERIFYPEER, o->tls_verify ? 1L : 0L) ==
                     CURLE_OK &&
             curl_easy_setopt(s->easy, CURLOPT_SSL_VERIFYHOST, o->tls_verify ? 2L : 0L) ==
                     CURLE_OK &&
             curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK &&
             curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, s) == CURLE_OK &&
             curl_easy_setopt(s->easy, CURLOPT_OPENSOCKETFUNCTION, on_open_socket) == CURLE_OK;
        if (ok && o->ca_file)
                ok = curl_easy_setopt(s->easy, CURLOPT_CAINFO, o->ca_file) == CURLE_OK;
        if (!ok)
                return -EIO;
        *ret = TAKE_PTR(s);
        return 0;
}

int http_session_start_transfer(HttpSession *s)
{
        if (curl_multi_add_handle(s->client->multi, s->easy) != CURLM_OK)
                return -EIO;
        return 0;
}

HttpSession *http_session_free(HttpSession *s)
{
        if (!s)
                return NULL;
        if (s->cache)
                http_cache_leave(s);
        sd_event_source_disable_unref(s->retry);
        if (s->busy)
                curl_multi_remove_handle(s->client->multi, s->easy);
        if (s->easy)
                curl_easy_cleanup(s->easy);
        slist_free_erase(s->headers);
        slist_free_erase(s->req_headers);
        http_session_form_erase(s);
        buf_done(&s->body);
        free(s);
        return NULL;
}

int http_session_add_header(HttpSession *s, const char *header)
{
        struct curl_slist *l = curl_slist_append(s->headers, header);

        if (!l)
                return -ENOMEM;
        s->headers = l;
        return 0;
}

int http_session_request(HttpSession *s, const char *url, const char *form,
                         char *const *extra_headers, HttpDone done, void *userdata)
{
        struct curl_slist *h = NULL;

        if (s->busy)
                return -EBUSY;
        for (struct curl_slist *i = s->headers; i; i = i->next)
                if (!(h = curl_slist_append(h, i->data)))
                        goto oom;
        STRV_FOREACH (x, (char **)extra_headers)
                if (!(h = curl_slist_append(h, *x)))
                        goto oom;
        slist_free_erase(s->req_headers);
        s->req_headers = h;
        h = NULL;
        http_session_form_erase(s);

        buf_done(&s->body);
        s->errbuf[0] = 0;
        if (curl_easy_setopt(s->easy, CURLOPT_URL, url) != CURLE_OK ||
            curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, s->req_headers) != CURLE_OK)
                return -EINVAL;
        if (form) {
                /* Our copy, not curl's (COPYPOSTFIELDS): we wipe it when the transfer is over. */
                s->form_len = strlen(form);
                s->form = strdup(form);
                if (!s->form)
                        return -ENOMEM;
                if (curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE_LARGE,
                                     (curl_off_t)s->form_len) != CURLE_OK ||
                    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, s->form) != CURLE_OK)
                        return -EINVAL;
        } else if (curl_easy_setopt(s->easy, CURLOPT_HTTPGET, 1L) != CURLE_OK)
                return -EINVAL;

        s->done = done;
        s->userdata = userdata;
        s->start_usec = now_usec();
        if (s->cache) {
                int r = http_cache_dispatch(s, url, form);

                if (r < 0)
                        return r;
        } else if (http_session_start_transfer(s) < 0)
                return -EIO;
        s->busy = true;
        return 0;
oom:
        slist_free_erase(h);
        return -ENOMEM;
}

static void session_complete(HttpSession *s, CURLcode code)
{
        HttpResponse resp = {
                .curl_code = code,
                .body = &s->body,
                .body_truncated = s->body.truncated,
                .duration_usec = now_usec() - s->start_usec,
        };
        char *location = NULL, *ctype = NULL;

        if (code == CURLE_WRITE_ERROR && s->body.truncated)
                resp.curl_code = 0; /* we stopped it: the response itself arrived */
        if (resp.curl_code != 0)
                resp.error = s->errbuf[0] ? s->errbuf : curl_easy_strerror(code);
        (void)curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &resp.status);
        if (curl_easy_getinfo(s->easy, CURLINFO_REDIRECT_URL, &location) == CURLE_OK)
                resp.location = location;
        if (curl_easy_getinfo(s->easy, CURLINFO_CONTENT_TYPE, &ctype) == CURLE_OK)
                resp.content_type = ctype;
        if (s->filling)
                http_cache_fill(s, &resp);
        s->done(s, &resp, s->userdata); /* may free s */
}

static bool session_unanswered(HttpSession *s, CURLcode code)
{
        long status = 0;

        if (!s->options.retry_unanswered_usec ||
            now_usec() + HTTP_RETRY_USEC > s->start_usec + s->options.retry_unanswered_usec)
                return false;
        if (code == CURLE_COULDNT_CONNECT)
                return true;
        (void)curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
        return code == CURLE_OK && status >= 502 && status <= 504;
}

static int on_retry(sd_event_source *src, uint64_t usec, void *userdata)
{
        HttpSession *s = userdata;

        (void)src, (void)usec;
        s->retry = sd_event_source_disable_unref(s->retry);
        buf_done(&s->body);
        s->errbuf[0] = 0;
        if (http_session_start_transfer(s) < 0) {
                s->busy = false;
                (void)curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, NULL);
                http_session_form_erase(s);
                session_complete(s, CURLE_FAILED_INIT);
        }
        return 0;
}

static void client_check_finished(HttpClient *c)
{
        CURLMsg *m;
        int left;

        while ((m = curl_multi_info_read(c->multi, &left))) {
                HttpSession *s = NULL;

                if (m->msg != CURLMSG_DONE)
                        continue;
                if (curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&s) != CURLE_OK ||
                    !s)
                        continue;
                CURLcode code = m->data.result;
                curl_multi_remove_handle(c->multi, s->easy);
                /* Not answering yet: the same request again soon (the form kept for it). */
                if (session_unanswered(s, code) &&
                    sd_event_add_time_relative(c->event, &s->retry, CLOCK_MONOTONIC,
                                               HTTP_RETRY_USEC, 0, on_retry, s) >= 0) {
                        (void)sd_event_source_set_description(s->retry, "http-retry");
                        continue;
                }
                s->busy = false;
                /* The transfer is over: the form (a password) is not needed any more. */
                (void)curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, NULL);
                http_session_form_erase(s);
                session_complete(s, code);
        }
}

char *http_escape(HttpSession *s, const char *str)
{
        char *e = curl_easy_escape(s->easy, str, 0), *r;

        if (!e)
                return NULL;
        r = strdup(e);
        curl_free(e);
        return r;
}

bool http_url_is_cleartext_remote(const char *url)
{
        _cleanup_free_ char *host = NULL;
        const char *h = startswith(url, "http://"), *end;
        unsigned char addr[sizeof(struct in6_addr)];

        if (!h)
                return false; /* https://, or not a URL we send anything to */
        if (*h == '[') {      /* an IPv6 literal */
                end = strchr(h, ']');
                if (!end)
                        return true;
                host = strndup(h + 1, (size_t)(end - h - 1));
                if (!host)
                        return true;
                return !(inet_pton(AF_INET6, host, addr) == 1 &&
                         memcmp(addr, &in6addr_loopback, sizeof(in6addr_loopback)) == 0);
        }
        host = strndup(h, strcspn(h, ":/"));
        if (!host)
                return true;
        if (strcasecmp(host, "localhost") == 0 || endswith(host, ".localhost"))
                return false;
        /* 127.0.0.0/8 */
        return !(inet_pton(AF_INET, host, addr) == 1 && addr[0] == 127);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The run's shared answers (http.h's HttpCache): a request the same as one
 * before is answered from it, or waits for the one in flight; the sessions of
 * a cache share a cookie store (curl's share interface). A session that was
 * to answer others and is freed first hands the request on to the first who
 * waited. Keys hold secrets (headers, forms) and are wiped.
 */
#include <curl/curl.h>

#include "http-internal.h"

#define HTTP_CACHE_KEY_MAX (64 * 1024)

static void erase_free(char *p, size_t n)
{
        if (p)
                explicit_bzero(p, n);
        free(p);
}

static void cache_entry_free(CacheEntry *e)
{
        if (!e)
                return;
        erase_free(e->key, e->key_len);
        free(e->waiters);
        free(e->error);
        free(e->location);
        free(e->content_type);
        buf_done(&e->body);
        free(e);
}

int http_cache_new(HttpCache **ret, sd_event *e)
{
        HttpCache *c;

        if (http_global_init() < 0)
                return -EIO;
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->event = sd_event_ref(e);
        c->share = curl_share_init();
        if (!c->share ||
            curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_COOKIE) != CURLSHE_OK) {
                http_cache_free(c);
                return -ENOMEM;
        }
        *ret = c;
        return 0;
}

HttpCache *http_cache_free(HttpCache *c)
{
        if (!c)
                return NULL;
        for (size_t i = 0; i < c->n_entries; i++)
                cache_entry_free(c->entries[i]);
        if (c->share)
                curl_share_cleanup(c->share);
        sd_event_unref(c->event);
        free(c);
        return NULL;
}

unsigned http_cache_hits(const HttpCache *c)
{
        return c ? c->hits : 0;
}

int http_session_set_cache(HttpSession *s, HttpCache *c)
{
        if (s->busy)
                return -EBUSY;
        if (curl_easy_setopt(s->easy, CURLOPT_SHARE, c ? c->share : NULL) != CURLE_OK)
                return -EIO;
        if (s->cache)
                http_cache_leave(s);
        s->cache = c;
        return 0;
}

/* Everything that makes two requests the same: the headers sent, the URL and the form. */
static int session_make_key(HttpSession *s, const char *url, const char *form)
{
        Buf k;

        erase_free(s->key, s->key_len);
        s->key = NULL;
        buf_init(&k, HTTP_CACHE_KEY_MAX);
        for (struct curl_slist *i = s->req_headers; i; i = i->next)
                buf_printf(&k, "%s\n", i->data);
        buf_printf(&k, "%s %s\n%s", form ? "POST" : "GET", url, strempty(form));
        if (!k.data || k.truncated) {
                if (k.data)
                        explicit_bzero(k.data, k.len);
                buf_done(&k);
                return -ENOMEM;
        }
        s->key_len = k.len;
        s->key = k.data; /* taken: not buf_done() */
        return 0;
}

static CacheEntry *cache_find(const HttpCache *c, const char *key, size_t len)
{
        for (size_t i = 0; i < c->n_entries; i++)
                if (c->entries[i]->key_len == len && memcmp(c->entries[i]->key, key, len) == 0)
                        return c->entries[i];
        return NULL;
}

static void cache_remove(HttpCache *c, CacheEntry *e)
{
        for (size_t i = 0; i < c->n_entries; i++)
                if (c->entries[i] == e) {
                        c->entries[i] = c->entries[--c->n_entries];
                        break;
                }
        cache_entry_free(e);
}

static int on_deliver(sd_event_source *src, void *userdata)
{
        HttpSession *s = userdata;
        const CacheEntry *e = s->waiting;
        HttpResponse resp = {
                .curl_code = e ? e->curl_code : CURLE_FAILED_INIT,
                .error = e ? e->error : "the request could not be restarted",
        };

        (void)src;
        s->deliver = sd_event_source_disable_unref(s->deliver);
        s->waiting = NULL;
        s->busy = false;
        (void)curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, NULL);
        http_session_form_erase(s);
        if (e) {
                resp.status = e->status;
                resp.location = e->location;
                resp.content_type = e->content_type;
                resp.body = &e->body;
                resp.body_truncated = e->body_truncated;
                resp.duration_usec = e->duration_usec;
                s->cache->hits++;
        } else
                resp.body = &s->body;
        s->done(s, &resp, s->userdata); /* may free s */
        return 0;
}

static int schedule_delivery(HttpSession *s)
{
        int r = sd_event_add_defer(s->cache->event, &s->deliver, on_deliver, s);

        if (r >= 0)
                (void)sd_event_source_set_description(s->deliver, "http-cache-deliver");
        return r;
}

/* The request is prepared on the handle: answer it from the cache, wait, or send it. */
static int session_dispatch(HttpSession *s)
{
        HttpCache *c = s->cache;
        CacheEntry *e = cache_find(c, s->key, s->key_len);

        if (e && e->done) {
                s->waiting = e;
                return schedule_delivery(s);
        }
        if (e) {
                HttpSession **w = reallocarray(e->waiters, e->n_waiters + 1, sizeof(*w));

                if (!w)
                        return -ENOMEM;
                e->waiters = w;
                w[e->n_waiters++] = s;
                s->waiting = e;
                return 0;
        }
        if (c->n_entries < HTTP_CACHE_ENTRIES_MAX) {
                e = calloc(1, sizeof(*e));
                if (!e)
                        return -ENOMEM;
                e->key = malloc(s->key_len + 1);
                if (!e->key) {
                        free(e);
                        return -ENOMEM;
                }
                memcpy(e->key, s->key, s->key_len + 1);
                e->key_len = s->key_len;
                e->filler = s;
                c->entries[c->n_entries++] = e;
                s->filling = e;
        }
        if (http_session_start_transfer(s) < 0) {
                if (s->filling)
                        cache_remove(c, TAKE_PTR(s->filling));
                return -EIO;
        }
        return 0;
}

/* The filler is gone before its answer came: the first who waited asks the server itself. */
static void cache_abandon(HttpCache *c, CacheEntry *e)
{
        HttpSession **waiters = TAKE_PTR(e->waiters);
        size_t n = e->n_waiters;

        e->n_waiters = 0;
        cache_remove(c, e);
        for (size_t i = 0; i < n; i++) {
                waiters[i]->waiting = NULL;
                if (session_dispatch(waiters[i]) < 0)
                        (void)schedule_delivery(waiters[i]); /* its callback: an error */
        }
        free(waiters);
}

void http_cache_leave(HttpSession *s)
{
        CacheEntry *e = s->waiting;

        s->deliver = sd_event_source_disable_unref(s->deliver);
        if (e && !e->done)
                for (size_t i = 0; i < e->n_waiters; i++)
                        if (e->waiters[i] == s) {
                                e->waiters[i] = e->waiters[--e->n_waiters];
                                break;
                        }
        s->waiting = NULL;
        if (s->filling) {
                s->filling->filler = NULL;
                cache_abandon(s->cache, TAKE_PTR(s->filling));
        }
        erase_free(s->key, s->key_len);
        s->key = NULL;
}

/* The filler's answer arrived: keep it, and hand it to whoever waited for it. */
void http_cache_fill(HttpSession *s, const HttpResponse *resp)
{
        CacheEntry *e = TAKE_PTR(s->filling);
        bool ok;

        e->filler = NULL;
        e->curl_code = resp->curl_code;
        e->status = resp->status;
        e->body_truncated = resp->body_truncated;
        e->duration_usec = resp->duration_usec;
        buf_init(&e->body, s->options.body_max);
        ok = buf_append(&e->body, resp->body->data ?: "", resp->body->len) >= 0 &&
             (!resp->error || (e->error = strdup(resp->error))) &&
             (!resp->location || (e->location = strdup(resp->location))) &&
             (!resp->content_type || (e->content_type = strdup(resp->content_type)));
        if (!ok) {
                /* Not kept: who waited asks the server itself. */
                cache_abandon(s->cache, e);
                return;
        }
        e->done = true;
        for (size_t i = 0; i < e->n_waiters; i++)
                if (schedule_delivery(e->waiters[i]) < 0)
                        e->waiters[i]->waiting = NULL; /* delivered as an error */
        e->waiters = mfree(e->waiters);
        e->n_waiters = 0;
}

int http_cache_dispatch(HttpSession *s, const char *url, const char *form)
{
        int r = session_make_key(s, url, form);

        if (r < 0)
                return r;
        return session_dispatch(s);
}

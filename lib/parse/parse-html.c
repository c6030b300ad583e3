/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * HTML parsing for the panels and login checks. libxml2 builds the tree (it
 * copes with real-world HTML in recover mode); this file only walks it,
 * iteratively, so a deeply nested page cannot exhaust the stack.
 */
#include <ctype.h>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include "parse-html.h"

#define HTML_SIZE_MAX (16 * 1024 * 1024)
#define HTML_PARSE_FLAGS                                                                           \
        (HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET |       \
         HTML_PARSE_NOBLANKS | HTML_PARSE_COMPACT)

/* Error messages Django and Nautobot's templates put on a failed login. */
static const char *const error_classes[] = {"alert-danger", "errornote", "errorlist",
                                            "invalid-feedback", "alert-error"};

DEFINE_TRIVIAL_CLEANUP_FUNC(htmlDocPtr, xmlFreeDoc);

/* The parsed document and its root element; -EBADMSG when there is none. */
static int parse(const char *html, size_t len, htmlDocPtr *ret_doc, xmlNodePtr *ret_root)
{
        htmlDocPtr doc;

        if (len > HTML_SIZE_MAX || len > INT32_MAX)
                return -EBADMSG;
        doc = htmlReadMemory(html, (int)len, NULL, "UTF-8", HTML_PARSE_FLAGS);
        if (!doc)
                return -EBADMSG;
        *ret_doc = doc;
        *ret_root = xmlDocGetRootElement(doc);
        return 0;
}

/* Depth-first successor of n within the subtree of root, or NULL. */
static xmlNodePtr next_node(xmlNodePtr n, xmlNodePtr root, bool descend)
{
        if (descend && n->children)
                return n->children;
        while (n && n != root) {
                if (n->next)
                        return n->next;
                n = n->parent;
        }
        return NULL;
}

static bool is_element(xmlNodePtr n, const char *name)
{
        return n->type == XML_ELEMENT_NODE && xmlStrcasecmp(n->name, BAD_CAST name) == 0;
}

static char *attr(xmlNodePtr n, const char *name)
{
        xmlChar *v = xmlGetProp(n, BAD_CAST name);
        char *r;

        if (!v)
                return NULL;
        r = strdup((const char *)v);
        xmlFree(v);
        return r;
}

/* Reads libxml2's copy of the attribute: a copy of ours that failed would hide a panel. */
static bool has_class(xmlNodePtr n, const char *cls)
{
        xmlChar *c = xmlGetProp(n, BAD_CAST "class");
        size_t l = strlen(cls);
        bool found = false;

        for (const char *p = (const char *)c; p && *p && !found;) {
                size_t w;

                while (isspace((unsigned char)*p))
                        p++;
                w = strcspn(p, " \t\r\n\f");
                found = w == l && strncmp(p, cls, l) == 0;
                p += w;
        }
        xmlFree(c);
        return found;
}

/* Text content with runs of white space folded to one space, trimmed. */
static char *text_folded(xmlNodePtr n)
{
        xmlChar *t = xmlNodeGetContent(n);
        char *r, *w;
        bool space = false;

        if (!t)
                return strdup("");
        r = w = malloc(strlen((const char *)t) + 1);
        if (!r) {
                xmlFree(t);
                return NULL;
        }
        for (const char *p = (const char *)t; *p; p++) {
                if (isspace((unsigned char)*p)) {
                        space = w != r;
                        continue;
                }
                if (space)
                        *w++ = ' ';
                space = false;
                *w++ = *p;
        }
        *w = 0;
        xmlFree(t);
        return r;
}

/*
 * Text a reader does not see: a screen reader's copy (Bootstrap 5's
 * visually-hidden, Bootstrap 4's sr-only; 3.2's header has "Toggle <name>
 * panel" so) and what is no text at all.
 */
static bool is_unseen(xmlNodePtr n)
{
        return n->type == XML_ELEMENT_NODE &&
               (has_class(n, "visually-hidden") || has_class(n, "sr-only") ||
                is_element(n, "script") || is_element(n, "style") || is_element(n, "template"));
}

/*
 * The text of root's subtree a reader sees, runs of white space folded to one
 * space and trimmed: the title of 3.2's <h2> may hold icons and spans, whose
 * text nodes are joined as the browser shows them. Two passes over the text
 * nodes (the length, then the copy): one allocation.
 */
static char *text_seen(xmlNodePtr root)
{
        size_t total = 0;
        char *r = NULL, *w = NULL;
        bool space = false;

        for (int pass = 0; pass < 2; pass++) {
                if (pass == 1) {
                        r = w = malloc(total + 1);
                        if (!r)
                                return NULL;
                }
                for (xmlNodePtr n = root->children; n; n = next_node(n, root, !is_unseen(n))) {
                        if ((n->type != XML_TEXT_NODE && n->type != XML_CDATA_SECTION_NODE) ||
                            !n->content)
                                continue;
                        if (pass == 0) {
                                total += strlen((const char *)n->content);
                                continue;
                        }
                        for (const char *p = (const char *)n->content; *p; p++) {
                                if (isspace((unsigned char)*p)) {
                                        space = w != r;
                                        continue;
                                }
                                if (space)
                                        *w++ = ' ';
                                space = false;
                                *w++ = *p;
                        }
                }
        }
        *w = 0;
        return r;
}

/*
 * The element holding a card's title, in its header: 3.1 writes it as a
 * <strong>, 3.2 as an <h2>; Bootstrap's card-title is what a later release
 * would most likely write instead. The first of them in document order (a
 * <strong> inside a heading is the heading's); unseen text is skipped.
 */
static xmlNodePtr find_title(xmlNodePtr header)
{
        static const char *const title_elements[] = {"strong", "h1", "h2", "h3", "h4", "h5", "h6"};

        for (xmlNodePtr n = header->children; n; n = next_node(n, header, !is_unseen(n))) {
                if (n->type != XML_ELEMENT_NODE || is_unseen(n))
                        continue;
                if (has_class(n, "card-title"))
                        return n;
                for (size_t i = 0; i < ELEMENTSOF(title_elements); i++)
                        if (is_element(n, title_elements[i]))
                                return n;
        }
        return NULL;
}

/* The first descendant element of root matching name (and class, if given). */
static xmlNodePtr find_first(xmlNodePtr root, const char *name, const char *cls)
{
        for (xmlNodePtr n = root->children; n; n = next_node(n, root, true))
                if (is_element(n, name) && (!cls || has_class(n, cls)))
                        return n;
        return NULL;
}

HomePage *home_page_free(HomePage *h)
{
        if (!h)
                return NULL;
        for (size_t i = 0; i < h->n_panels; i++) {
                free(h->panels[i].id);
                free(h->panels[i].title);
        }
        free(h->panels);
        free(h);
        return NULL;
}

static bool is_login_form(xmlNodePtr form)
{
        for (xmlNodePtr n = form->children; n; n = next_node(n, form, true)) {
                _cleanup_free_ char *type = NULL, *name = NULL;

                if (!is_element(n, "input"))
                        continue;
                type = attr(n, "type");
                name = attr(n, "name");
                if (streq_ptr(type, "password") || streq_ptr(name, "password"))
                        return true;
        }
        return false;
}

int html_parse_home(const char *html, size_t len, HomePage **ret)
{
        _cleanup_(home_page_freep) HomePage *h = NULL;
        _cleanup_(xmlFreeDocp) htmlDocPtr doc = NULL;
        xmlNodePtr root;
        int r;

        r = parse(html, len, &doc, &root);
        if (r < 0)
                return r;
        h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        for (xmlNodePtr n = root; n && r >= 0; n = next_node(n, root, true)) {
                xmlNodePtr header, title;
                Panel *p;

                if (is_element(n, "form") && is_login_form(n))
                        h->login_form = true;
                if (!is_element(n, "div") || !has_class(n, "card") || !has_class(n, "nb-draggable"))
                        continue;
                if (h->n_panels >= HTML_PANELS_MAX) {
                        r = -E2BIG;
                        break;
                }
                p = realloc(h->panels, sizeof(Panel) * (h->n_panels + 1));
                if (!p) {
                        r = -ENOMEM;
                        break;
                }
                h->panels = p;
                p = &h->panels[h->n_panels++];
                *p = (Panel){.id = attr(n, "id")};
                header = find_first(n, "div", "card-header");
                title = header ? find_title(header) : NULL;
                p->title = title ? text_seen(title) : NULL;
                if ((!p->id && xmlHasProp(n, BAD_CAST "id")) || (title && !p->title))
                        r = -ENOMEM;
                else if (isempty(p->title))
                        p->title = mfree(p->title); /* an empty title is none */
                else
                        h->n_titled++;
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(h);
        return 0;
}

static bool is_ascii_alnum(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/*
 * Django's slugify() (allow_unicode=False), which makes a card's id of its
 * panel's name: punctuation dropped, lower case, runs of white space and '-'
 * one '-', '-' and '_' trimmed at both ends. Django transliterates non-ASCII
 * letters first (NFKD: "é" → "e"); they are dropped here, so such a name has
 * no slug (false) rather than a wrong one; so has one longer than size - 1.
 */
static bool slugify(const char *s, char *buf, size_t size)
{
        size_t n = 0, start = 0;
        bool sep = false;

        for (; *s; s++) {
                char c = *s;

                if ((unsigned char)c >= 0x80)
                        return false;
                if (c == '-' || isspace((unsigned char)c)) {
                        sep = true;
                        continue;
                }
                if (!is_ascii_alnum(c) && c != '_')
                        continue;
                if (n + (sep && n > 0) + 1 >= size)
                        return false;
                if (sep && n > 0)
                        buf[n++] = '-';
                sep = false;
                buf[n++] = c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
        }
        while (n > 0 && (buf[n - 1] == '-' || buf[n - 1] == '_'))
                n--;
        while (start < n && (buf[start] == '-' || buf[start] == '_'))
                start++;
        memmove(buf, buf + start, n - start);
        buf[n - start] = 0;
        return n > start;
}

static bool panel_slug_is(const Panel *p, const char *name)
{
        char slug[HTML_SLUG_MAX];

        return p->id && slugify(name, slug, sizeof(slug)) && streq(p->id, slug);
}

const Panel *home_page_find(const HomePage *h, const char *name)
{
        for (size_t i = 0; i < h->n_panels; i++)
                if (streq_ptr(h->panels[i].title, name))
                        return &h->panels[i];
        /* The template makes the id of the same name as the title (and 3.2 keys its users'
         * layouts by it): a card whose title cannot be read, or reads as the name with some
         * markup's text around it, is that panel. One whose title reads as another name is
         * not, whatever its id. */
        for (size_t i = 0; i < h->n_panels; i++) {
                const Panel *p = &h->panels[i];
                char slug[HTML_SLUG_MAX];

                if (panel_slug_is(p, name) &&
                    (!p->title || !slugify(p->title, slug, sizeof(slug)) || strstr(slug, p->id)))
                        return p;
        }
        return NULL;
}

LoginPage *login_page_free(LoginPage *l)
{
        if (!l)
                return NULL;
        free(l->csrf_token);
        free(l->error);
        free(l);
        return NULL;
}

int html_parse_login(const char *html, size_t len, LoginPage **ret)
{
        _cleanup_(login_page_freep) LoginPage *l = NULL;
        _cleanup_(xmlFreeDocp) htmlDocPtr doc = NULL;
        xmlNodePtr root;
        int r;

        r = parse(html, len, &doc, &root);
        if (r < 0)
                return r;
        l = calloc(1, sizeof(*l));
        if (!l)
                return -ENOMEM;
        for (xmlNodePtr n = root; n && r >= 0; n = next_node(n, root, true)) {
                if (is_element(n, "form") && !l->has_form && is_login_form(n)) {
                        l->has_form = true;
                        for (xmlNodePtr i = n->children; i; i = next_node(i, n, true)) {
                                _cleanup_free_ char *name = NULL;

                                if (!is_element(i, "input"))
                                        continue;
                                name = attr(i, "name");
                                if (streq_ptr(name, "csrfmiddlewaretoken")) {
                                        l->csrf_token = attr(i, "value");
                                        break;
                                }
                        }
                }
                if (n->type == XML_ELEMENT_NODE && !l->error)
                        for (size_t k = 0; k < ELEMENTSOF(error_classes); k++)
                                if (has_class(n, error_classes[k])) {
                                        l->error = text_folded(n);
                                        if (!l->error)
                                                r = -ENOMEM;
                                        else if (isempty(l->error))
                                                l->error = mfree(l->error);
                                        break;
                                }
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(l);
        return 0;
}

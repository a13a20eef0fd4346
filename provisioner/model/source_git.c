/* source_git.c - one git commit as a source, and the repository facts
 * (HEAD, dirty paths).  The only libgit2 user: nothing is checked out, the
 * work tree is not touched. */
#include "source.h"

#include <git2.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

struct git_source {
	struct lc_source pub;
	git_repository *repo;
	git_tree *tree;
	char *root;           /* real path of the work tree, no trailing '/' */
};

static const char *git_msg(void)
{
	const git_error *e = git_error_last();

	return e && e->message ? e->message : "unknown libgit2 error";
}

int lc_source_global_init(struct lc_error *err)
{
	if (git_libgit2_init() < 0)
		return lc_error_set(err, LC_ERR, "libgit2 could not be initialized");
	return 0;
}

void lc_source_global_release(void)
{
	git_libgit2_shutdown();
}

/* path relative to the repository, or NULL when outside it ("" = root). */
static const char *rel_path(const struct git_source *g, const char *path)
{
	size_t rl = strlen(g->root);

	if (strncmp(path, g->root, rl) || (path[rl] && path[rl] != '/'))
		return NULL;
	path += rl;
	while (*path == '/')
		path++;
	return path;
}

/* "a//b/./c/" -> "a/b/c" */
static char *normalize(const char *p)
{
	struct lc_buf b = LC_BUF_INIT;

	while (*p) {
		const char *e = strchr(p, '/');
		size_t l = e ? (size_t)(e - p) : strlen(p);

		if (l && !(l == 1 && p[0] == '.')) {
			if (b.len)
				lc_buf_addc(&b, '/');
			lc_buf_add(&b, p, l);
		}
		p += l + (e ? 1 : 0);
	}
	return lc_buf_detach(&b, NULL);
}

static int outside(const struct git_source *g, const char *path, struct lc_error *err)
{
	return lc_error_set(err, LC_EIO, "%s is outside the repository at %s", path, g->root);
}

static int g_stat(struct lc_source *s, const char *path, enum lc_src_kind *kind, int *mode,
		  struct lc_error *err)
{
	struct git_source *g = (struct git_source *)s;
	const char *rel = rel_path(g, path);
	git_tree_entry *e = NULL;
	char *n;
	int rc;

	*kind = LC_SRC_MISSING;
	*mode = 0;
	if (!rel)
		return outside(g, path, err);
	n = normalize(rel);
	if (!*n) {
		*kind = LC_SRC_DIR;
		*mode = 0755;
		free(n);
		return 0;
	}
	rc = git_tree_entry_bypath(&e, g->tree, n);
	free(n);
	if (rc == GIT_ENOTFOUND)
		return 0;
	if (rc < 0)
		return lc_error_set(err, LC_EIO, "%s in %s: %s", path, s->desc, git_msg());
	switch (git_tree_entry_filemode(e)) {
	case GIT_FILEMODE_TREE: *kind = LC_SRC_DIR; *mode = 0755; break;
	case GIT_FILEMODE_BLOB: *kind = LC_SRC_FILE; *mode = 0644; break;
	case GIT_FILEMODE_BLOB_EXECUTABLE: *kind = LC_SRC_FILE; *mode = 0755; break;
	case GIT_FILEMODE_LINK: *kind = LC_SRC_LINK; break;
	default: *kind = LC_SRC_MISSING; break;  /* submodules: not deployable */
	}
	git_tree_entry_free(e);
	return 0;
}

static int g_read(struct lc_source *s, const char *path, struct lc_buf *out, size_t max,
		  struct lc_error *err)
{
	struct git_source *g = (struct git_source *)s;
	const char *rel = rel_path(g, path);
	git_tree_entry *e = NULL;
	git_blob *blob = NULL;
	char *n;
	int rc = 0;

	lc_buf_reset(out);
	if (!rel)
		return outside(g, path, err);
	n = normalize(rel);
	if (git_tree_entry_bypath(&e, g->tree, n) < 0) {
		rc = lc_error_set(err, LC_EIO, "%s: not in %s", path, s->desc);
		goto out;
	}
	if (git_tree_entry_type(e) != GIT_OBJECT_BLOB ||
	    git_tree_entry_filemode(e) == GIT_FILEMODE_LINK) {
		rc = lc_error_set(err, LC_EIO, "%s: not a regular file in %s", path, s->desc);
		goto out;
	}
	if (git_blob_lookup(&blob, g->repo, git_tree_entry_id(e)) < 0) {
		rc = lc_error_set(err, LC_EIO, "%s in %s: %s", path, s->desc, git_msg());
		goto out;
	}
	if ((size_t)git_blob_rawsize(blob) > max) {
		rc = lc_error_set(err, LC_EIO, "%s: larger than the limit of %zu bytes", path, max);
		goto out;
	}
	/* blob data is not NUL-terminated: lc_buf adds one */
	lc_buf_add(out, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
out:
	git_blob_free(blob);
	git_tree_entry_free(e);
	free(n);
	return rc;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int g_list(struct lc_source *s, const char *dir, char ***names, size_t *n,
		  struct lc_error *err)
{
	struct git_source *g = (struct git_source *)s;
	const char *rel = rel_path(g, dir);
	git_tree_entry *e = NULL;
	git_tree *sub = NULL;
	const git_tree *t = g->tree;
	size_t i, count;
	char *norm;
	int rc = 0;

	*names = NULL;
	*n = 0;
	if (!rel)
		return outside(g, dir, err);
	norm = normalize(rel);
	if (*norm) {
		if (git_tree_entry_bypath(&e, g->tree, norm) < 0 ||
		    git_tree_entry_type(e) != GIT_OBJECT_TREE ||
		    git_tree_lookup(&sub, g->repo, git_tree_entry_id(e)) < 0) {
			rc = lc_error_set(err, LC_EIO, "%s: not a directory in %s", dir, s->desc);
			goto out;
		}
		t = sub;
	}
	count = git_tree_entrycount(t);
	*names = lc_xcalloc(count + 1, sizeof(**names));
	for (i = 0; i < count; i++)
		(*names)[(*n)++] = lc_xstrdup(git_tree_entry_name(git_tree_entry_byindex(t, i)));
	qsort(*names, *n, sizeof(**names), cmp_names);
out:
	git_tree_free(sub);
	git_tree_entry_free(e);
	free(norm);
	return rc;
}

/* The lexical path; a symbolic link anywhere on it is refused (a commit's
 * links could point anywhere on the machine). */
static int g_resolve(struct lc_source *s, const char *path, char **out, struct lc_error *err)
{
	struct git_source *g = (struct git_source *)s;
	const char *rel = rel_path(g, path);
	struct lc_buf prefix = LC_BUF_INIT;
	char *n, *p;
	int rc = 0;

	*out = NULL;
	if (!rel)
		return outside(g, path, err);
	n = normalize(rel);
	for (p = n; *p && !rc;) {
		char *e = strchr(p, '/');
		size_t l = e ? (size_t)(e - n) : strlen(n);
		enum lc_src_kind k;
		int mode;

		lc_buf_reset(&prefix);
		lc_buf_addf(&prefix, "%s/%.*s", g->root, (int)l, n);
		if ((rc = g_stat(s, prefix.buf, &k, &mode, err)))
			break;
		if (k == LC_SRC_MISSING)
			rc = lc_error_set(err, LC_EIO, "%s: not in %s", prefix.buf, s->desc);
		else if (k == LC_SRC_LINK)
			rc = lc_error_set(err, LC_EIO, "%s is a symbolic link in %s", prefix.buf,
					  s->desc);
		p = e ? e + 1 : p + strlen(p);
	}
	if (!rc)
		*out = *n ? lc_xasprintf("%s/%s", g->root, n) : lc_xstrdup(g->root);
	lc_buf_release(&prefix);
	free(n);
	return rc;
}

static void g_free(struct lc_source *s)
{
	struct git_source *g = (struct git_source *)s;

	git_tree_free(g->tree);
	git_repository_free(g->repo);
	free(g->root);
	free(s->desc);
	free(g);
}

static const struct lc_source_ops git_ops = {
	g_stat, g_read, g_list, g_resolve, g_free,
};

static int open_repo(git_repository **repo, char **root, const char *near, struct lc_error *err)
{
	const char *wd;
	char *real;
	size_t l;

	*repo = NULL;
	*root = NULL;
	if (git_repository_open_ext(repo, near, 0, NULL) < 0)
		return lc_error_set(err, LC_EUSAGE, "%s is not in a git repository: %s", near,
				    git_msg());
	if (!(wd = git_repository_workdir(*repo))) {
		git_repository_free(*repo);
		*repo = NULL;
		return lc_error_set(err, LC_EUSAGE, "the repository of %s has no work tree", near);
	}
	real = realpath(wd, NULL);
	*root = real ? real : lc_xstrdup(wd);
	l = strlen(*root);
	while (l > 1 && (*root)[l - 1] == '/')
		(*root)[--l] = '\0';
	return 0;
}

static void oid_hex(char out[41], const git_oid *id)
{
	git_oid_tostr(out, 41, id);
}

int lc_repo_info(struct lc_repo_info *info, const char *near, struct lc_error *err)
{
	git_repository *repo = NULL;
	git_oid head;

	memset(info, 0, sizeof(*info));
	if (git_repository_open_ext(&repo, near, 0, NULL) < 0)
		return 0;  /* not a repository: nothing to say */
	git_repository_free(repo);
	if (open_repo(&repo, &info->root, near, err))
		return 0;
	info->is_repo = 1;
	if (git_reference_name_to_id(&head, repo, "HEAD") == 0) {
		oid_hex(info->head, &head);
		memcpy(info->commit, info->head, sizeof(info->commit));
	}
	git_repository_free(repo);
	return 0;
}

void lc_repo_info_release(struct lc_repo_info *info)
{
	free(info->root);
	memset(info, 0, sizeof(*info));
}

int lc_source_git(struct lc_source **out, const char *near, const char *rev,
		  struct lc_repo_info *info, struct lc_error *err)
{
	struct git_source *g;
	git_object *obj = NULL, *peeled = NULL;
	git_commit *commit = NULL;
	char shortid[8];
	int rc;

	*out = NULL;
	if ((rc = lc_repo_info(info, near, err)))
		return rc;
	if (!info->is_repo)
		return lc_error_set(err, LC_EUSAGE, "--ref needs a git repository, and %s is not "
				    "in one", near);
	g = lc_xcalloc(1, sizeof(*g));
	g->pub.ops = &git_ops;
	if ((rc = open_repo(&g->repo, &g->root, near, err)))
		goto fail;
	if (git_revparse_single(&obj, g->repo, rev) < 0) {
		rc = lc_error_set(err, LC_EUSAGE, "--ref %s: %s", rev, git_msg());
		goto fail;
	}
	/* an annotated tag is a tag object: peel it to its commit */
	if (git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) < 0) {
		rc = lc_error_set(err, LC_EUSAGE, "--ref %s does not name a commit: %s", rev,
				  git_msg());
		goto fail;
	}
	commit = (git_commit *)peeled;
	if (git_commit_tree(&g->tree, commit) < 0) {
		rc = lc_error_set(err, LC_EIO, "--ref %s: %s", rev, git_msg());
		goto fail;
	}
	oid_hex(info->commit, git_commit_id(commit));
	memcpy(shortid, info->commit, 7);
	shortid[7] = '\0';
	g->pub.desc = lc_xasprintf("commit %s (%s)", shortid, rev);
	git_object_free(obj);
	git_object_free(peeled);
	*out = &g->pub;
	return 0;
fail:
	git_object_free(obj);
	git_object_free(peeled);
	g->pub.desc = lc_xstrdup("?");
	g_free(&g->pub);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int lc_repo_changes(char ***out, size_t *n, const struct lc_repo_info *info,
		    char *const *paths, size_t n_paths, struct lc_error *err)
{
	git_status_options opts;
	git_repository *repo = NULL;
	git_status_list *list = NULL;
	char **rel;
	char *root = NULL;
	size_t i, k = 0, rl, alloc = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (!info->is_repo || !n_paths)
		return 0;
	if ((rc = open_repo(&repo, &root, info->root, err)))
		return rc;
	git_status_options_init(&opts, GIT_STATUS_OPTIONS_VERSION);
	rl = strlen(root);
	rel = lc_xcalloc(n_paths + 1, sizeof(*rel));
	for (i = 0; i < n_paths; i++)
		if (!strncmp(paths[i], root, rl) && (paths[i][rl] == '/' || !paths[i][rl]))
			rel[k++] = (char *)paths[i] + rl + (paths[i][rl] == '/');
	opts.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
	opts.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS;
	opts.pathspec.strings = rel;
	opts.pathspec.count = k;
	rc = 0;
	if (k && git_status_list_new(&list, repo, &opts) < 0) {
		rc = lc_error_set(err, LC_EIO, "git status: %s", git_msg());
	} else if (k) {
		size_t count = git_status_list_entrycount(list);

		for (i = 0; i < count; i++) {
			const git_status_entry *e = git_status_byindex(list, i);
			const git_diff_delta *d[2] = { e->head_to_index, e->index_to_workdir };
			int j;

			for (j = 0; j < 2; j++) {
				if (!d[j])
					continue;
				LC_ALLOC_GROW(*out, *n + 2, alloc);
				if (d[j]->old_file.path)
					(*out)[(*n)++] = lc_xasprintf("%s/%s", root, d[j]->old_file.path);
				if (d[j]->new_file.path)
					(*out)[(*n)++] = lc_xasprintf("%s/%s", root, d[j]->new_file.path);
			}
		}
	}
	/* sorted, each once (a change names its path on both sides) */
	if (*n) {
		size_t w = 1;

		qsort(*out, *n, sizeof(**out), cmp_str);
		for (i = 1; i < *n; i++) {
			if (!strcmp((*out)[i], (*out)[w - 1]))
				free((*out)[i]);
			else
				(*out)[w++] = (*out)[i];
		}
		*n = w;
	}
	git_status_list_free(list);
	git_repository_free(repo);
	free(rel);
	free(root);
	return rc;
}

int lc_repo_any_under(char *const *changes, size_t n, char *const *paths, size_t n_paths)
{
	size_t j;

	for (j = 0; j < n_paths; j++) {
		size_t l = strlen(paths[j]), lo = 0, hi = n;

		/* the first change >= the path; those under it follow it */
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (strcmp(changes[mid], paths[j]) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (; lo < n && !strncmp(changes[lo], paths[j], l); lo++)
			if (!changes[lo][l] || changes[lo][l] == '/')
				return 1;
	}
	return 0;
}

/* source.h - where the inventory, role files, templates and apps are read
 * from: a small table of functions with two backends, the work tree
 * (source_fs.c) and one git commit (source_git.c, the only libgit2 user:
 * no checkout, the work tree is not touched).
 *
 * Paths are absolute file-system paths as the work tree has them; the git
 * backend serves the paths inside its repository from the commit. */
#ifndef LC_SOURCE_H
#define LC_SOURCE_H

#include <stddef.h>

#include "buf.h"
#include "error.h"

enum lc_src_kind { LC_SRC_MISSING, LC_SRC_FILE, LC_SRC_DIR, LC_SRC_LINK };

struct lc_source;

struct lc_source_ops {
	int (*stat)(struct lc_source *s, const char *path, enum lc_src_kind *kind, int *mode,
		    struct lc_error *err);
	/* Whole file into out (reset first); more than max bytes is an error. */
	int (*read)(struct lc_source *s, const char *path, struct lc_buf *out, size_t max,
		    struct lc_error *err);
	/* Names in a directory, sorted, without . and .. */
	int (*list)(struct lc_source *s, const char *dir, char ***names, size_t *n,
		    struct lc_error *err);
	/* The canonical path: symlinks resolved (work tree) or refused (git). */
	int (*resolve)(struct lc_source *s, const char *path, char **out, struct lc_error *err);
	void (*free)(struct lc_source *s);
};

struct lc_source {
	const struct lc_source_ops *ops;
	char *desc;          /* "the work tree" or "commit 1a2b3c4 (v1.0)" */
};

/* The work tree: the file system as it is. */
struct lc_source *lc_source_fs(void);

/* Repository facts for the host state and templates. */
struct lc_repo_info {
	int is_repo;         /* the inventory lives in a git work tree */
	char commit[41];     /* deployed commit (HEAD, or the --ref commit) */
	char head[41];       /* the work tree's HEAD */
	char *root;          /* the work tree's top directory */
};

/* Open commit REV (a branch, tag - annotated tags are peeled - or hash) of
 * the repository holding `near` (a path in its work tree). */
int lc_source_git(struct lc_source **out, const char *near, const char *rev,
		  struct lc_repo_info *info, struct lc_error *err);
/* HEAD of the repository holding `near`, if any (info->is_repo = 0 when it
 * is not in one). */
int lc_repo_info(struct lc_repo_info *info, const char *near, struct lc_error *err);
void lc_repo_info_release(struct lc_repo_info *info);
/* What differs from HEAD under the given paths (absolute, in the work
 * tree): modified, staged or untracked files, as absolute paths in *out
 * (*n of them; free each and the array).  One git status for all. */
int lc_repo_changes(char ***out, size_t *n, const struct lc_repo_info *info,
		    char *const *paths, size_t n_paths, struct lc_error *err);
/* Whether one of changes (from lc_repo_changes) is one of paths or below
 * one of them. */
int lc_repo_any_under(char *const *changes, size_t n, char *const *paths, size_t n_paths);

void lc_source_free(struct lc_source *s);

/* Call once before threads start (libgit2). */
int lc_source_global_init(struct lc_error *err);
void lc_source_global_release(void);

/* Helpers over the table.  A NULL source is the work tree. */
struct lc_doc;
int lc_source_load_yaml(struct lc_doc *out, struct lc_source *s, const char *path,
			struct lc_error *err);
int lc_source_is_fs(const struct lc_source *s);
int lc_source_read(struct lc_source *s, const char *path, struct lc_buf *out, size_t max,
		   struct lc_error *err);

#endif

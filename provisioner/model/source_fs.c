/* source_fs.c - the work tree as a source: plain file-system calls. */
#include "source.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "files.h"
#include "yamlx.h"

static int fs_stat(struct lc_source *s, const char *path, enum lc_src_kind *kind, int *mode,
		   struct lc_error *err)
{
	struct stat st;

	(void)s;
	(void)err;
	*kind = LC_SRC_MISSING;
	*mode = 0;
	/* links are followed: containment is checked by resolve */
	if (stat(path, &st) < 0)
		return 0;
	*kind = S_ISDIR(st.st_mode) ? LC_SRC_DIR : S_ISREG(st.st_mode) ? LC_SRC_FILE : LC_SRC_LINK;
	*mode = (int)(st.st_mode & 07777);
	return 0;
}

static int fs_read(struct lc_source *s, const char *path, struct lc_buf *out, size_t max,
		   struct lc_error *err)
{
	int rc = lc_file_read(out, path, max);

	(void)s;
	if (rc == -EFBIG)
		return lc_error_set(err, LC_EIO, "%s: larger than the limit of %zu bytes", path, max);
	if (rc < 0)
		return lc_error_set(err, LC_EIO, "%s: %s", path, strerror(-rc));
	return 0;
}

static int fs_list(struct lc_source *s, const char *dir, char ***names, size_t *n,
		   struct lc_error *err)
{
	struct dirent **ents = NULL;
	int i, k;

	(void)s;
	*names = NULL;
	*n = 0;
	k = scandir(dir, &ents, NULL, alphasort);
	if (k < 0)
		return lc_error_set(err, LC_EIO, "%s: %s", dir, strerror(errno));
	*names = lc_xcalloc((size_t)k + 1, sizeof(**names));
	for (i = 0; i < k; i++) {
		if (strcmp(ents[i]->d_name, ".") && strcmp(ents[i]->d_name, ".."))
			(*names)[(*n)++] = lc_xstrdup(ents[i]->d_name);
		free(ents[i]);
	}
	free(ents);
	return 0;
}

static int fs_resolve(struct lc_source *s, const char *path, char **out, struct lc_error *err)
{
	(void)s;
	*out = realpath(path, NULL);
	if (!*out)
		return lc_error_set(err, LC_EIO, "%s: %s", path, strerror(errno));
	return 0;
}

static void fs_free(struct lc_source *s)
{
	free(s->desc);
	free(s);
}

static const struct lc_source_ops fs_ops = {
	fs_stat, fs_read, fs_list, fs_resolve, fs_free,
};

struct lc_source *lc_source_fs(void)
{
	struct lc_source *s = lc_xcalloc(1, sizeof(*s));

	s->ops = &fs_ops;
	s->desc = lc_xstrdup("the work tree");
	return s;
}

void lc_source_free(struct lc_source *s)
{
	if (s)
		s->ops->free(s);
}

int lc_source_read(struct lc_source *s, const char *path, struct lc_buf *out, size_t max,
		   struct lc_error *err)
{
	return s->ops->read(s, path, out, max, err);
}

int lc_source_is_fs(const struct lc_source *s)
{
	return !s || s->ops == &fs_ops;
}

int lc_source_load_yaml(struct lc_doc *out, struct lc_source *s, const char *path,
			struct lc_error *err)
{
	static const struct lc_yaml_limits lim = LC_YAML_LIMITS_DEFAULT;
	struct lc_buf b = LC_BUF_INIT;
	int rc;

	if (lc_source_is_fs(s))
		return lc_yaml_load_file(out, path, NULL, err);
	out->file = NULL;
	out->root = NULL;
	if ((rc = s->ops->read(s, path, &b, lim.max_bytes, err)) == 0)
		rc = lc_yaml_load_buf(out, path, b.buf, b.len, NULL, err);
	lc_buf_release(&b);
	return rc;
}

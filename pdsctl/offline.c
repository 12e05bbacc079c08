/*
 * offline: the commands pdsctl runs itself, without the daemon
 * (restore), and the progress bar they share.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "clock.h"
#include "pdsctl.h"

#define BAR_WIDTH	30
#define REDRAW_S	0.1

static const char *
arg(const struct ctl_parsed *p, const char *key)
{
	return json_string_value(json_object_get(p->args, key));
}

int
ctl_offline_run(const struct ctl_parsed *p)
{
	if (strcmp(p->cmd->cmd, "restore") == 0)
		return ctl_restore(arg(p, "backup"), arg(p, "data_dir"));
	fprintf(stderr, "pdsctl: %s: not a local command\n", p->cmd->cmd);
	return EXIT_USAGE;
}

static void
human(char *out, size_t cap, double b)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	size_t	 u = 0;

	while (b >= 1024 && u < 4) {
		b /= 1024;
		u++;
	}
	snprintf(out, cap, u == 0 ? "%.0f %s" : "%.1f %s", b, unit[u]);
}

static void
draw(struct ctl_progress *pr, bool last)
{
	char	 done[32], total[32], bar[BAR_WIDTH + 1];
	double	 frac = pr->bytes > 0 ?
		    (double)pr->done / (double)pr->bytes : pr->files > 0 ?
		    (double)pr->files_done / (double)pr->files : 1;
	double	 secs = clock_mono_s() - pr->started;
	int	 i, fill = (int)(frac * BAR_WIDTH), tenth = (int)(frac * 10);

	if (!pr->tty) {
		if (tenth == pr->last_tenth && !last)
			return;
		pr->last_tenth = tenth;
	}
	for (i = 0; i < BAR_WIDTH; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[BAR_WIDTH] = '\0';
	human(done, sizeof(done), (double)pr->done);
	human(total, sizeof(total), (double)pr->bytes);
	fprintf(stderr, "%s%s: [%s] %3d%% %zu/%zu files, %s/%s, %.1f s%s",
	    pr->tty ? "\r" : "", pr->what, bar, (int)(frac * 100),
	    pr->files_done, pr->files, done, total, secs,
	    pr->tty && !last ? "" : "\n");
	fflush(stderr);
	pr->drawn = clock_mono_s();
}

void
ctl_progress_begin(struct ctl_progress *pr, const char *what, int64_t bytes,
    size_t files)
{
	memset(pr, 0, sizeof(*pr));
	pr->what = what;
	pr->bytes = bytes;
	pr->files = files;
	pr->started = clock_mono_s();
	pr->tty = isatty(STDERR_FILENO);
	pr->last_tenth = -1;
	draw(pr, false);
}

void
ctl_progress_add(struct ctl_progress *pr, int64_t n)
{
	pr->done += n;
	if (pr->tty && clock_mono_s() - pr->drawn >= REDRAW_S)
		draw(pr, false);
}

void
ctl_progress_file(struct ctl_progress *pr)
{
	pr->files_done++;
	if (!pr->tty || clock_mono_s() - pr->drawn >= REDRAW_S)
		draw(pr, false);
}

void
ctl_progress_end(struct ctl_progress *pr, bool ok)
{
	if (ok || pr->tty)
		draw(pr, true);
}

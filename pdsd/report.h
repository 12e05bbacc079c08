/*
 * report: governance reports (report.c).
 */
#ifndef PDSD_REPORT_H
#define PDSD_REPORT_H

struct admin_call;

/*
 * Admin command "report" {since?}: the period's members, content,
 * storage, traffic, moderation by kind, runs of pdsd and a daily
 * series, as JSON.
 */
int	admin_report(struct admin_call *);

#endif

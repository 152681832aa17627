/*
 * options: the command line, parsed once into a const cli_opts.
 *
 * One table describes every option; it drives both parsing and --help, so
 * the two cannot drift apart. Options may come before or after the command
 * and the paths; "--" ends them.
 */
#ifndef TG_OPTIONS_H
#define TG_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef enum cli_cmd { CMD_STATS, CMD_TIMELINES, CMD_FIND } cli_cmd;
typedef enum cli_format { FMT_TEXT, FMT_NDJSON } cli_format;
typedef enum cli_color { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER } cli_color;

typedef struct cli_opts {
    cli_cmd cmd;
    unsigned threads;    /* 0: one per core */
    bool json;           /* stats --json */
    cli_format format;   /* timelines, find */
    bool format_given;
    const char *output;  /* -o FILE, NULL for stdout */
    const char *ids_from;
    int input_format;    /* a sniff_format forced on every input, -1: detect */
    cli_color color;
    size_t max_line;
    size_t line_memory;  /* --line-memory; 0: the default */
    bool progress;       /* false with --no-progress */
    bool quiet;          /* no warnings about skipped inputs */
    bool help, version;
    char **args;         /* positional arguments after the command (owned array) */
    size_t nargs;
} cli_opts;

/* Parses argv; returns 0, or -1 with a message in err. */
int cli_parse(int argc, char **argv, cli_opts *o, char *err, size_t errlen);
void cli_free(cli_opts *o);

void cli_help(FILE *f);
void cli_version(FILE *f);

#endif

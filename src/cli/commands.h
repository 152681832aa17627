/*
 * commands: stats, timelines and find, from parsed options to exit status.
 *
 * Each command builds the input list, runs the engine, groups and prints.
 * Returns the process exit status: 0 found, 1 nothing found, 2 error.
 */
#ifndef TG_COMMANDS_H
#define TG_COMMANDS_H

#include "cli/options.h"

int cmd_run(const cli_opts *o);

#endif

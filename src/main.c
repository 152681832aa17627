/*
 * tracegrep: finds every request of a distributed trace in AWS load balancer
 * logs and puts them on one timeline. main() only parses the command line
 * and hands over to the command; see cli/ for the rest.
 */
#include <signal.h>
#include <stdio.h>

#include "cli/commands.h"
#include "cli/options.h"
#include "input/mapfile.h"

int main(int argc, char **argv)
{
    /* A closed output pipe must surface as EPIPE from write(2), so that the
     * writer can stop quietly instead of the process dying mid-line. */
    signal(SIGPIPE, SIG_IGN);
    mapfile_guard_install();

    cli_opts o;
    char err[256];
    if (cli_parse(argc, argv, &o, err, sizeof err) != 0) {
        fprintf(stderr, "tracegrep: %s\n", err);
        cli_free(&o);
        return 2;
    }
    int status = 0;
    if (o.help)
        cli_help(stdout);
    else if (o.version)
        cli_version(stdout);
    else
        status = cmd_run(&o);
    cli_free(&o);
    return status;
}

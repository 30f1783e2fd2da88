/* caqmail config: print the configuration in effect. */
#include "cli.h"

#include <stdio.h>

int
cmd_config(CqCli *cli, int argc, char **argv)
{
    int code = EX_USAGE;
    g_autoptr(GOptionContext) context = g_option_context_new("");
    g_option_context_set_summary(
        context, "Print every setting with the value in effect; secrets "
                 "are shown as \"(set)\".");

    if (!cli_parse(cli, context, &argc, &argv))
        return EX_USAGE;
    if (!cli_load_config(cli, &code))
        return code;
    g_autofree char *text = cq_config_dump(cli->config);
    fputs(text, stdout);
    return EX_OK;
}

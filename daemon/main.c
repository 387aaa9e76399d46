/* main.c: dtcd command line (replaced by the real one as the trunk lands) */
#include <stdio.h>

#include "config.h"

int main(int argc, char **argv)
{
	printf("dtcd %s\n", DTCD_VERSION);
	return 0;
}

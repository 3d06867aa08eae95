/* zlib for GuardCore's HTTP decoding (gzip and deflate bodies): the system's own header and library. */
#include <zlib.h>

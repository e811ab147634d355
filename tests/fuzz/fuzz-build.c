/*
 * fuzz-build.c - dockerd's streamed build output ({"stream"}, {"aux":{"ID"}},
 * {"error"} lines) through the catalog's parser, in arbitrary chunkings:
 * however the bytes are split across reads, the image id and the error it
 * finds must be the ones it finds when they arrive in one piece.
 * Input: byte 0 = chunk size (0 means 1), the rest = the stream.
 */
#include "fuzz.h"

#include "../../src/res/catalog.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	fz_setup("");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char id1[96], err1[512], id2[96], err2[512];

	if (size < 1)
		return 0;
	cat_parse_build((const char *)data + 1, size - 1, size - 1 ? size - 1 : 1, id1, sizeof(id1),
	                err1, sizeof(err1));
	cat_parse_build((const char *)data + 1, size - 1, data[0], id2, sizeof(id2), err2,
	                sizeof(err2));
	if (strcmp(id1, id2) != 0 || strcmp(err1, err2) != 0)
		abort();
	return 0;
}

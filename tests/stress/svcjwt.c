/*
 * svcjwt: mint an inter-service JWT (ES256K) for a stress test, signed
 * by a key the test names, so that it can also publish that key in a
 * DID document it serves itself (or never serve one at all).
 *
 * usage: svcjwt ISS AUD LXM KEYHEX [N]
 *
 * Prints the key's Multikey on one line, then N tokens (1 by default),
 * one a line, each with a jti of its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "buf.h"
#include "err.h"
#include "jwt.h"
#include "keys.h"

int
main(int argc, char **argv)
{
	struct pds_key	*key = NULL;
	struct buf	 out;
	json_t		*p;
	char		 mk[KEY_MULTIKEY_MAX + 1], jti[32];
	time_t		 now = time(NULL);
	long		 i, n = argc == 6 ? atol(argv[5]) : 1;

	if (argc != 5 && argc != 6) {
		fprintf(stderr, "usage: svcjwt ISS AUD LXM KEYHEX [N]\n");
		return 64;
	}
	if (key_from_private_hex(&key, KEY_K256, argv[4],
	    strlen(argv[4])) != PDS_OK ||
	    key_to_multikey(key, mk, sizeof(mk)) < 0) {
		fprintf(stderr, "svcjwt: bad key\n");
		return 1;
	}
	printf("%s\n", mk);
	buf_init(&out, 8192);
	for (i = 0; i < n; i++) {
		snprintf(jti, sizeof(jti), "stress-%ld-%ld", (long)now, i);
		p = json_pack("{s:I,s:s,s:s,s:I,s:s,s:s}", "iat",
		    (json_int_t)now, "iss", argv[1], "aud", argv[2], "exp",
		    (json_int_t)now + 600, "lxm", argv[3], "jti", jti);
		buf_reset(&out);
		if (p == NULL || jwt_sign_es(&out, "JWT", p, key) != PDS_OK) {
			fprintf(stderr, "svcjwt: cannot sign\n");
			return 1;
		}
		printf("%.*s\n", (int)out.len, (const char *)out.p);
		json_decref(p);
	}
	buf_clear(&out);
	key_free(key);
	return 0;
}

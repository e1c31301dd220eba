/* A C program against libDataPrepEngine's one header: what a caller in another language does.
 * Usage: smoke SET. Prints "abi N", then, for SET read in order in batches of 4 (float32, NHWC),
 * "batch INDEX COUNT SUM" per batch (SUM: the sum of the batch's values, to 6 digits), "end", then
 * the error a bad option gives: "error CODE ARGUMENT". Exits 1 on any unexpected failure. */
#include "dataprep_engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what, const dp_error *error) {
    fprintf(stderr, "%s: %s: %s\n", what, error->code, error->message);
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    printf("abi %d\n", dp_engine_abi_version());
    char options[4096];
    snprintf(options, sizeof options,
             "{\"path\": \"%s\", \"batch_size\": 4, \"shuffle\": false, \"layout\": \"nhwc\", \"threads\": 2, \"prefetch\": 2}",
             argv[1]);
    dp_error error;
    dp_loader *loader = dp_loader_open(options, &error);
    if (!loader) return fail("open", &error);
    int64_t length = dp_loader_describe(loader, NULL, 0);
    char *description = malloc((size_t)length + 1);
    dp_loader_describe(loader, description, length + 1);
    int height = 0, width = 0, channels = 0;
    sscanf(strstr(description, "\"height\":") + 9, "%d", &height);
    sscanf(strstr(description, "\"width\":") + 8, "%d", &width);
    sscanf(strstr(description, "\"channels\":") + 11, "%d", &channels);
    free(description);
    size_t values = (size_t)4 * height * width * channels;
    void *images[2];
    int32_t *labels[2];
    for (int k = 0; k < 2; k++) {
        images[k] = calloc(values, sizeof(float));
        labels[k] = calloc(4, sizeof(int32_t));
    }
    if (dp_loader_attach(loader, 2, images, labels, &error) != 0) return fail("attach", &error);
    if (dp_loader_start(loader, 0, 0, &error) != 0) return fail("start", &error);
    dp_batch batch;
    int status;
    while ((status = dp_loader_next(loader, &batch, &error)) == 1) {
        const float *floats = images[batch.slot];
        double sum = 0;
        for (size_t i = 0; i < (size_t)batch.count * height * width * channels; i++) sum += floats[i];
        printf("batch %lld %lld %.6f\n", (long long)batch.index, (long long)batch.count, sum);
    }
    if (status < 0) return fail("next", &error);
    printf("end\n");
    dp_loader_close(loader);
    for (int k = 0; k < 2; k++) {
        free(images[k]);
        free(labels[k]);
    }
    snprintf(options, sizeof options, "{\"path\": \"%s\", \"batch_size\": 0}", argv[1]);
    if (dp_loader_open(options, &error) != NULL || !error.failed) return 1;
    printf("error %s %s\n", error.code, error.argument);
    return 0;
}

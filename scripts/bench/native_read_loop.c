/*
 * The native baseline for scripts/bench/read-tiles.js: reads a list of regions from one slide with
 * OpenSlide's C API, N pthreads sharing one openslide_t, and converts each region from premultiplied
 * ARGB to packed RGB with the same rule as src/native/openslide_binding.cc (255 * c / a, truncating;
 * a == 0 -> white), so both sides do the same work. Each thread reuses its own ARGB and RGB buffers,
 * the way a tight C loop would.
 *
 * Build (read-tiles.js does this):
 *   gcc -O2 -pthread -o native_read_loop native_read_loop.c $(pkg-config --cflags --libs openslide)
 * Usage:
 *   native_read_loop SLIDE TILE_LIST THREADS [--checksum]
 * TILE_LIST is a text file: a first line "level width height" (region size in level pixels), then one
 * "x y" line per region (level-0 coordinates, OpenSlide's convention). Prints one JSON line:
 *   {"threads":N,"tiles":T,"seconds":S,"cpuSeconds":U,"tilesPerSecond":R,"minorFaults":F,"maxRssKiB":K[,"checksums":[...]]}
 * cpuSeconds is the process's user + system CPU time over the read loop (all threads): on a shared,
 * noisy machine it is steadier than the wall clock. With --checksum it also prints an FNV-1a checksum
 * of each tile's RGB bytes (computed inside the loop: use it for verification runs only).
 */
#define _GNU_SOURCE
#include <openslide.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

typedef struct {
  int64_t x, y;
} tile_t;

static openslide_t *g_osr;
static int32_t g_level;
static int64_t g_w, g_h;
static tile_t *g_tiles;
static size_t g_count;
static atomic_size_t g_next;
static int g_checksum;
static uint32_t *g_sums;
static atomic_int g_failed;

static void argb_to_rgb(const uint32_t *src, uint8_t *dst, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    const uint32_t p = src[i];
    const uint32_t a = p >> 24;
    uint8_t *o = dst + i * 3;
    if (a == 255) {
      o[0] = (p >> 16) & 0xff;
      o[1] = (p >> 8) & 0xff;
      o[2] = p & 0xff;
    } else if (a == 0) {
      o[0] = o[1] = o[2] = 255;
    } else {
      o[0] = (uint8_t)(255 * ((p >> 16) & 0xff) / a);
      o[1] = (uint8_t)(255 * ((p >> 8) & 0xff) / a);
      o[2] = (uint8_t)(255 * (p & 0xff) / a);
    }
  }
}

static uint32_t fnv1a(const uint8_t *p, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 16777619u;
  }
  return h;
}

static void *worker(void *arg) {
  (void)arg;
  const size_t pixels = (size_t)g_w * (size_t)g_h;
  uint32_t *argb = malloc(pixels * 4);
  uint8_t *rgb = malloc(pixels * 3);
  if (argb == NULL || rgb == NULL) {
    atomic_store(&g_failed, 1);
    free(argb);
    free(rgb);
    return NULL;
  }
  for (;;) {
    const size_t i = atomic_fetch_add(&g_next, 1);
    if (i >= g_count) break;
    openslide_read_region(g_osr, argb, g_tiles[i].x, g_tiles[i].y, g_level, g_w, g_h);
    argb_to_rgb(argb, rgb, pixels);
    if (g_checksum) g_sums[i] = fnv1a(rgb, pixels * 3);
  }
  free(argb);
  free(rgb);
  return NULL;
}

static long minor_faults(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_minflt;
}

static double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s SLIDE TILE_LIST THREADS [--checksum]\n", argv[0]);
    return 2;
  }
  const int threads = atoi(argv[3]);
  g_checksum = argc > 4 && strcmp(argv[4], "--checksum") == 0;
  if (threads < 1 || threads > 256) {
    fprintf(stderr, "THREADS must be 1..256\n");
    return 2;
  }

  FILE *f = fopen(argv[2], "r");
  if (f == NULL) {
    perror(argv[2]);
    return 1;
  }
  long long level, w, h;
  if (fscanf(f, "%lld %lld %lld", &level, &w, &h) != 3 || w <= 0 || h <= 0) {
    fprintf(stderr, "%s: bad header\n", argv[2]);
    return 1;
  }
  g_level = (int32_t)level;
  g_w = w;
  g_h = h;
  size_t cap = 4096;
  g_tiles = malloc(cap * sizeof(tile_t));
  long long x, y;
  while (fscanf(f, "%lld %lld", &x, &y) == 2) {
    if (g_count == cap) {
      cap *= 2;
      g_tiles = realloc(g_tiles, cap * sizeof(tile_t));
    }
    g_tiles[g_count].x = x;
    g_tiles[g_count].y = y;
    ++g_count;
  }
  fclose(f);
  if (g_checksum) g_sums = calloc(g_count, sizeof(uint32_t));

  g_osr = openslide_open(argv[1]);
  if (g_osr == NULL || openslide_get_error(g_osr) != NULL) {
    fprintf(stderr, "cannot open %s: %s\n", argv[1], g_osr ? openslide_get_error(g_osr) : "unsupported");
    return 1;
  }

  pthread_t *tids = calloc((size_t)threads, sizeof(pthread_t));
  const long f0 = minor_faults();
  const double c0 = cpu_seconds();
  const double t0 = now_seconds();
  for (int t = 0; t < threads; ++t) pthread_create(&tids[t], NULL, worker, NULL);
  for (int t = 0; t < threads; ++t) pthread_join(tids[t], NULL);
  const double seconds = now_seconds() - t0;
  const double cpu = cpu_seconds() - c0;
  const long faults = minor_faults() - f0;

  const char *err = openslide_get_error(g_osr);
  if (err != NULL || atomic_load(&g_failed)) {
    fprintf(stderr, "read failed: %s\n", err ? err : "out of memory");
    return 1;
  }
  openslide_close(g_osr);

  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("{\"threads\":%d,\"tiles\":%zu,\"seconds\":%.6f,\"cpuSeconds\":%.6f,\"tilesPerSecond\":%.3f,"
         "\"minorFaults\":%ld,\"maxRssKiB\":%ld",
         threads, g_count, seconds, cpu, (double)g_count / seconds, faults, ru.ru_maxrss);
  if (g_checksum) {
    printf(",\"checksums\":[");
    for (size_t i = 0; i < g_count; ++i) printf(i ? ",%u" : "%u", g_sums[i]);
    printf("]");
  }
  printf("}\n");
  free(tids);
  free(g_tiles);
  free(g_sums);
  return 0;
}

/* collect_load.c: N simulated cars publishing events to a broker (QoS 1) */
#include <errno.h>
#include <getopt.h>
#include <mosquitto.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/*
 * collect_load -p PORT -n VEHICLES -r EVENTS_PER_S_PER_VEHICLE -d SECONDS
 *              [-c CONNECTIONS] [-t TOPIC] [-i RUN_ID]
 *
 * Each vehicle's events go to TOPIC/LOADnnnnnn/events as dtcd's payload
 * (vehicle, event_id, ts: the wall clock at publishing, so the collector's
 * received time minus ts is the end-to-end latency). Vehicles share
 * CONNECTIONS clients (a broker sees that many cars; the topics are what
 * the collector sees). Prints what was published and acknowledged.
 */

static atomic_ulong acked;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_publish(struct mosquitto *mosq, void *ud, int mid)
{
	atomic_fetch_add(&acked, 1);
}

static void sleep_until(double t)
{
	double d = t - now_s();
	struct timespec ts;

	if (d <= 0)
		return;
	ts.tv_sec = (time_t)d;
	ts.tv_nsec = (long)((d - (double)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
	unsigned n = 1000, conns = 0, port = 1883;
	double rate = 1.0, secs = 30;
	const char *topic = "fleet", *run = "1";
	struct mosquitto **m;
	unsigned long sent = 0, due;
	double t0, t;
	char tp[128], payload[512], id[64];
	int c, rc;

	while ((c = getopt(argc, argv, "p:n:r:d:c:t:i:")) != -1) {
		switch (c) {
		case 'p':
			port = (unsigned)atoi(optarg);
			break;
		case 'n':
			n = (unsigned)atoi(optarg);
			break;
		case 'r':
			rate = atof(optarg);
			break;
		case 'd':
			secs = atof(optarg);
			break;
		case 'c':
			conns = (unsigned)atoi(optarg);
			break;
		case 't':
			topic = optarg;
			break;
		case 'i':
			run = optarg;
			break;
		default:
			fprintf(stderr,
				"usage: collect_load -p PORT -n N -r RATE "
				"-d SECONDS [-c CONNS] [-t TOPIC]\n");
			return 2;
		}
	}
	if (!conns)
		conns = n < 50 ? n : 50;
	mosquitto_lib_init();
	m = calloc(conns, sizeof(*m));
	for (unsigned i = 0; i < conns; i++) {
		snprintf(id, sizeof(id), "load-%s-%u", run, i);
		m[i] = mosquitto_new(id, true, NULL);
		mosquitto_publish_callback_set(m[i], on_publish);
		/* no client-side bound: what the broker takes is measured */
		mosquitto_max_inflight_messages_set(m[i], 100);
		rc = mosquitto_connect(m[i], "127.0.0.1", (int)port, 60);
		if (rc == MOSQ_ERR_SUCCESS)
			rc = mosquitto_loop_start(m[i]);
		if (rc != MOSQ_ERR_SUCCESS) {
			fprintf(stderr, "collect_load: connect %u: %s\n", i,
				mosquitto_strerror(rc));
			return 1;
		}
	}
	t0 = now_s();
	/* evenly spread: event k of the whole fleet at t0 + k / (n * rate) */
	for (;;) {
		t = now_s();
		if (t - t0 >= secs)
			break;
		due = (unsigned long)((t - t0) * rate * n);
		for (; sent < due; sent++) {
			unsigned v = (unsigned)(sent % n);
			unsigned long k = sent / n + 1;

			snprintf(tp, sizeof(tp), "%s/LOAD%06u/events", topic,
				 v);
			snprintf(payload, sizeof(payload),
				 "{\"ts\":%.6f,\"event\":\"pending\",\"code\":"
				 "\"P0303\",\"detector\":\"misfire\","
				 "\"severity\":"
				 "\"high\",\"status\":39,\"occurrences\":1,"
				 "\"vehicle\":\"LOAD%06u\",\"event_id\":%lu,"
				 "\"dtcd_version\":\"bench\"}",
				 now_s(), v, k);
			mosquitto_publish(m[v % conns], NULL, tp,
					  (int)strlen(payload), payload, 1,
					  false);
		}
		sleep_until(t + 0.002);
	}
	/* every PUBACK, or 30 s */
	for (int i = 0; i < 3000 && atomic_load(&acked) < sent; i++)
		sleep_until(now_s() + 0.01);
	printf("published %lu acked %lu seconds %.1f\n", sent,
	       (unsigned long)atomic_load(&acked), now_s() - t0);
	for (unsigned i = 0; i < conns; i++) {
		mosquitto_disconnect(m[i]);
		mosquitto_loop_stop(m[i], false);
		mosquitto_destroy(m[i]);
	}
	free(m);
	mosquitto_lib_cleanup();
	return 0;
}

/* report.js: draws dtcd's drive report from the JSON in #dtcd-data (SVG) */
"use strict";
(function () {
	var errors = 0;
	window.addEventListener("error", function () {
		errors++;
		document.body.dataset.jsErrors = String(errors);
	});

	var data = JSON.parse(document.getElementById("dtcd-data").textContent);
	var de = data.lang === "de";
	/* one row a word: [English, German] */
	var WORDS = {
		title: ["dtcd report", "dtcd-Bericht"],
		source: ["Log", "Aufzeichnung"],
		duration: ["Duration", "Dauer"],
		healthy: ["No DTC events: this drive looks healthy.",
			  "Keine Fehlercodes: die Fahrt ist unauffällig."],
		events: ["Events", "Ereignisse"],
		timeline: ["Drive timeline", "Fahrtverlauf"],
		cycles: ["operation cycles", "Fahrzyklen"],
		warmup: ["warm-up cycle", "Warmlaufzyklus"],
		signals: ["Signals", "Signale"],
		status: ["Status byte", "Statusbyte"],
		freeze: ["Freeze frame", "Umweltdaten (Freeze Frame)"],
		advice: ["For the driver", "Für den Fahrer"],
		action: ["Workshop action", "Werkstatt"],
		occurrences: ["Occurrences", "Auftreten"],
		severity: ["Severity", "Schwere"],
		signal: ["Signal", "Signal"],
		value: ["Value", "Wert"],
		threshold: ["threshold", "Schwelle"],
		failing: ["failing", "Fehlerbereich"],
		points: ["points", "Punkte"],
		at: ["at", "bei"],
		s: ["s", "s"],
		rate: ["misfire rate cyl.", "Aussetzerrate Zyl."],
		band: ["target ±", "Soll ±"]
	};
	var L = {};
	for (var w in WORDS)
		L[w] = WORDS[w][de ? 1 : 0];
	/* the ISO 14229-1 names of the status bits, in German explained */
	var STATUS = de ? [
		["testFailed", "Test fehlgeschlagen"],
		["testFailedThisOperationCycle", "in diesem Zyklus"],
		["pendingDTC", "vorläufig"], ["confirmedDTC", "bestätigt"],
		["testNotCompletedSinceLastClear"],
		["testFailedSinceLastClear"],
		["testNotCompletedThisOperationCycle"],
		["warningIndicatorRequested", "Warnlampe"]
	].map(function (b) {
		return b[1] ? b[0] + " (" + b[1] + ")" : b[0];
	}) : dtcdDom.BITS;
	var COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
		      "#8c564b", "#17becf", "#7f7f7f"];

	var el = dtcdDom.el, svg = dtcdDom.svg;
	function fmt(v) {
		if (Math.abs(v) >= 100 || v === Math.round(v))
			return String(Math.round(v * 10) / 10);
		return v.toPrecision(3);
	}
	function clock(t) {
		if (t > 1e9) /* absolute: seconds since 1970, shown in UTC */
			return new Date(t * 1000).toISOString()
				.replace("T", " ").replace(/\..*/, "") + " UTC";
		return t.toFixed(3) + " " + L.s;
	}

	/* the points of a series in [t0, t1], with the one before t0 so a
	 * step line starts at the window's edge */
	function slice(s, t0, t1) {
		var out = { t: [], v: [] };
		if (!s)
			return out;
		for (var i = 0; i < s.t.length; i++) {
			if (s.t[i] > t1)
				break;
			/* before the window: only the value in force at t0 */
			if (s.t[i] < t0 && i + 1 < s.t.length &&
			    s.t[i + 1] < t0)
				continue;
			out.t.push(Math.max(s.t[i], t0));
			out.v.push(s.v[i]);
		}
		return out;
	}

	/* misfires per firing of one cylinder over the last `revs`
	 * crankshaft revolutions, in percent, as det_misfire counts them */
	function misfire_rate(rpm, cnt, revs) {
		var out = { t: [], v: [] };
		if (!rpm || !cnt)
			return out;
		var total = 0, j = 0, hist = [], last = null, misf = 0;
		function revs_at(t) {
			while (j + 1 < rpm.t.length && rpm.t[j + 1] <= t) {
				total += rpm.v[j] / 60 * (rpm.t[j + 1] - rpm.t[j]);
				j++;
			}
			return total + (rpm.t[j] <= t ?
				rpm.v[j] / 60 * (t - rpm.t[j]) : 0);
		}
		for (var i = 0; i < cnt.t.length; i++) {
			var r = revs_at(cnt.t[i]);
			var c = cnt.v[i];
			/* counters reset at engine start and wrap at 65536 */
			if (last !== null)
				misf += c >= last ? c - last :
					(last > 60000 ? c + 65536 - last : c);
			last = c;
			hist.push([r, misf]);
			while (hist.length > 1 && r - hist[1][0] >= revs)
				hist.shift();
			var dr = r - hist[0][0];
			if (dr > 0) {
				out.t.push(cnt.t[i]);
				out.v.push(100 * (misf - hist[0][1]) / (dr / 2));
			}
		}
		return out;
	}

	/* two step series on one time base: at each time of either, the
	 * value of each in force then (from when both have one) */
	function zip2(a, b) {
		var out = { t: [], a: [], b: [] }, i = 0, j = 0;
		while (i < a.t.length || j < b.t.length) {
			var t = Math.min(i < a.t.length ? a.t[i] : Infinity,
					 j < b.t.length ? b.t[j] : Infinity);
			while (i < a.t.length && a.t[i] <= t)
				i++;
			while (j < b.t.length && b.t[j] <= t)
				j++;
			if (i && j) {
				out.t.push(t);
				out.a.push(a.v[i - 1]);
				out.b.push(b.v[j - 1]);
			}
		}
		return out;
	}

	/* spans where pred(i) holds along a step series; one still open at
	 * the last point lasts until tend (the value stays in force) */
	function spans(s, pred, tend) {
		var out = [], start = null;
		for (var i = 0; i < s.t.length; i++) {
			var on = pred(i);
			if (on && start === null)
				start = s.t[i];
			if (!on && start !== null) {
				out.push([start, s.t[i]]);
				start = null;
			}
		}
		if (start !== null)
			out.push([start, tend !== undefined ? tend :
				  s.t[s.t.length - 1]]);
		return out;
	}

	/*
	 * One panel: lines (name, series), dashed thresholds, a band (lo and
	 * hi series), shaded failing spans, marks (vertical lines at times).
	 */
	function panel(p, t0, t1) {
		var W = 860, H = p.height || 150, ml = 54, mr = 10, mt = 8,
		    mb = 22;
		var root = svg("svg", { "class": "panel", viewBox: "0 0 " + W +
					" " + H, width: W, height: H });
		var lo = Infinity, hi = -Infinity;
		function see(v) {
			if (v < lo) lo = v;
			if (v > hi) hi = v;
		}
		p.lines.forEach(function (l) { l.s.v.forEach(see); });
		(p.thresholds || []).forEach(function (th) { see(th.v); });
		if (p.band)
			p.band.hi.v.concat(p.band.lo.v).forEach(see);
		if (lo === Infinity) {
			lo = 0;
			hi = 1;
		}
		if (hi === lo) {
			hi += 1;
			lo -= 1;
		}
		var pad = (hi - lo) * 0.08;
		lo -= pad;
		hi += pad;
		function X(t) {
			return ml + (W - ml - mr) * (t - t0) / (t1 - t0 || 1);
		}
		function Y(v) {
			return mt + (H - mt - mb) * (hi - v) / (hi - lo);
		}
		function path(s) {
			var d = "";
			for (var i = 0; i < s.t.length; i++) {
				var x = X(s.t[i]).toFixed(1);
				if (i === 0)
					d += "M" + x + " " + Y(s.v[i]).toFixed(1);
				else
					d += "H" + x + "V" + Y(s.v[i]).toFixed(1);
			}
			if (s.t.length)
				d += "H" + X(t1).toFixed(1);
			return d;
		}
		root.appendChild(svg("rect", { x: ml, y: mt, width: W - ml - mr,
			height: H - mt - mb, "class": "frame" }));
		(p.shade || []).forEach(function (sp) {
			root.appendChild(svg("rect", { "class": sp[2] || "cycle",
				x: X(sp[0]), y: mt,
				width: Math.max(1, X(sp[1]) - X(sp[0])),
				height: H - mt - mb }));
		});
		(p.fail || []).forEach(function (sp) {
			var r = svg("rect", { "class": "fail", x: X(sp[0]),
				y: mt, width: Math.max(2, X(sp[1]) - X(sp[0])),
				height: H - mt - mb });
			r.appendChild(svg("title", {}, L.failing));
			root.appendChild(r);
		});
		if (p.band) {
			var b = p.band, d = "";
			for (var i = 0; i < b.hi.t.length; i++)
				d += (i ? "L" : "M") + X(b.hi.t[i]).toFixed(1) +
				     " " + Y(b.hi.v[i]).toFixed(1);
			for (i = b.lo.t.length - 1; i >= 0; i--)
				d += "L" + X(b.lo.t[i]).toFixed(1) + " " +
				     Y(b.lo.v[i]).toFixed(1);
			if (d)
				root.appendChild(svg("path", { "class": "band",
							       d: d + "Z" }));
		}
		(p.thresholds || []).forEach(function (th) {
			root.appendChild(svg("line", { "class": "threshold",
				x1: ml, x2: W - mr, y1: Y(th.v), y2: Y(th.v) }));
			root.appendChild(svg("text", { "class": "thlabel",
				x: W - mr - 4, y: Y(th.v) - 3,
				"text-anchor": "end" }, th.label + " " +
				fmt(th.v)));
		});
		p.lines.forEach(function (l, i) {
			root.appendChild(svg("path", { "class": "line",
				d: path(l.s), stroke: COLORS[i % COLORS.length],
				"data-signal": l.name }));
		});
		(p.marks || []).forEach(function (m) {
			root.appendChild(svg("line", { "class": "mark",
				x1: X(m.t), x2: X(m.t), y1: mt, y2: H - mb }));
			root.appendChild(svg("text", { "class": "marklabel",
				x: X(m.t) + 3, y: mt + 11 }, m.label));
		});
		root.appendChild(svg("text", { x: ml - 4, y: mt + 10,
			"text-anchor": "end", "class": "tick" }, fmt(hi)));
		root.appendChild(svg("text", { x: ml - 4, y: H - mb,
			"text-anchor": "end", "class": "tick" }, fmt(lo)));
		var rel = p.relative;
		[t0, (t0 + t1) / 2, t1].forEach(function (t, i) {
			root.appendChild(svg("text", { x: X(t), y: H - 6,
				"text-anchor": ["start", "middle", "end"][i],
				"class": "tick" }, rel !== undefined ?
				(t - rel >= 0 ? "+" : "") + (t - rel).toFixed(0) +
				" " + L.s : clock(t)));
		});
		var lg = 0;
		p.lines.forEach(function (l, i) {
			var txt = svg("text", { x: ml + 6 + lg, y: mt + 12,
				fill: COLORS[i % COLORS.length],
				"class": "legend" }, l.name + (l.unit ? " [" +
				l.unit + "]" : ""));
			root.appendChild(txt);
			lg += 9 * (l.name.length + (l.unit || "").length + 4);
		});
		return root;
	}

	function sig(name) {
		return data.signals[name];
	}
	function unit(name) {
		return sig(name) ? sig(name).unit : "";
	}
	function line(name, t0, t1) {
		return { name: name, unit: unit(name),
			 s: slice(sig(name), t0, t1) };
	}
	function above(s, v, tend) {
		return spans(s, function (i) { return s.v[i] > v; }, tend);
	}

	/* the panels of each detector: its inputs, thresholds, failing span */
	var DETECTOR = {
		vanos: function (ev, t0, t1) {
			var cam = ev.code === "P0014" ? "exhaust" : "intake";
			var tn = "vanos_" + cam + "_target_deg",
			    an = "vanos_" + cam + "_actual_deg";
			var tg = slice(sig(tn), t0, t1),
			    ac = slice(sig(an), t0, t1);
			var dev = ev.params.deviation_deg;
			var lo = { t: tg.t, v: tg.v.map(function (v) {
				return v - dev; }) };
			var hi = { t: tg.t, v: tg.v.map(function (v) {
				return v + dev; }) };
			/* the actual angle against the target in force then */
			var z = zip2(tg, ac);
			var fail = spans(z, function (i) {
				return Math.abs(z.b[i] - z.a[i]) > dev;
			}, t1);
			return [{ lines: [{ name: tn, unit: unit(tn), s: tg },
					  { name: an, unit: unit(an), s: ac }],
				  band: { lo: lo, hi: hi }, fail: fail,
				  thresholds: [] , note: L.band + fmt(dev) },
				{ lines: [line("engine_emergency_mode", t0, t1)],
				  height: 90 }];
		},
		misfire: function (ev, t0, t1) {
			var n = parseInt(ev.code.slice(3), 10);
			var cyls = [];
			for (var c = 1; c <= 12; c++)
				if ((n === 0 || n === c) &&
				    sig("misfire_count_cyl_" + c))
					cyls.push(c);
			var rpm = sig("engine_speed_rpm");
			var lines = cyls.map(function (c) {
				var r = misfire_rate(rpm,
					sig("misfire_count_cyl_" + c),
					ev.params.window_revs);
				return { name: L.rate + " " + c, unit: "%",
					 s: slice(r, t0, t1) };
			});
			var fail = [];
			lines.forEach(function (l) {
				fail = fail.concat(above(l.s,
							 ev.params.rate_pct, t1));
			});
			return [{ lines: lines, fail: fail, thresholds: [
					{ v: ev.params.rate_pct, label: L.threshold },
					{ v: ev.params.cat_rate_pct,
					  label: L.threshold }] },
				{ lines: [line("engine_speed_rpm", t0, t1)],
				  height: 110 }];
		},
		turbo_pump: function (ev, t0, t1) {
			var P = ev.params;
			var tc = line("turbo_coolant_temp_c", t0, t1);
			var du = line("turbo_pump_duty_pct", t0, t1);
			var sp = line("turbo_pump_speed_rpm", t0, t1);
			/* P2600: commanded (duty at least duty_min_pct) but
			 * below speed_ratio_pct of the commanded speed */
			var z = zip2(du.s, sp.s);
			var stall = spans(z, function (i) {
				return z.a[i] >= P.duty_min_pct &&
				       z.b[i] < P.speed_ratio_pct / 100 *
						(z.a[i] / 100 * P.full_speed_rpm);
			}, t1);
			var temp = { lines: [tc], thresholds: [
					{ v: P.high_c, label: L.threshold },
					{ v: P.critical_c, label: L.threshold }] };
			var duty = { lines: [du], height: 110, thresholds: [
				{ v: P.duty_min_pct, label: L.threshold }] };
			var speed = { lines: [sp], height: 110 };
			if (ev.code === "P2600")
				speed.fail = stall;
			else
				temp.fail = above(tc.s, P.high_c, t1);
			return [temp, duty, speed];
		},
		egr: function (ev, t0, t1) {
			var e = line("egr_temp_c", t0, t1), s = e.s;
			var w = ev.params.rise_window_s, rise = ev.params.rise_c;
			/* a rise of rise_c within rise_window_s, whichever
			 * samples the window holds */
			var fail = spans(s, function (i) {
				for (var j = i - 1; j >= 0 &&
				     s.t[i] - s.t[j] <= w + 1e-3; j--)
					if (s.v[i] - s.v[j] >= rise)
						return true;
				return false;
			}, t1).concat(above(s, ev.params.hot_c, t1));
			return [{ lines: [e], fail: fail, thresholds: [
					{ v: ev.params.hot_c, label: L.threshold },
					{ v: ev.params.spike_c,
					  label: L.threshold }],
				  note: "+" + fmt(rise) + " / " + fmt(w) + " " +
					L.s },
				{ lines: [line("egr_valve_pct", t0, t1)],
				  height: 100 },
				{ lines: [line("coolant_temp_c", t0, t1)],
				  height: 100 }];
		},
		fuel_heater: function (ev, t0, t1) {
			var hc = line("fuel_heater_current_a", t0, t1);
			var bc = line("battery_current_a", t0, t1);
			return [{ lines: [hc], fail: above(hc.s,
					ev.params.heater_current_a, t1),
				  thresholds: [{ v: ev.params.heater_current_a,
						 label: L.threshold }] },
				{ lines: [bc], thresholds: [{
					v: ev.params.drain_current_a,
					label: L.threshold }], height: 110 },
				{ lines: [line("fuel_heater_on", t0, t1),
					  line("ignition_on", t0, t1)],
				  height: 90 }];
		}
	};

	function event_panels(ev, t0, t1) {
		var f = DETECTOR[ev.detector];
		if (f && ev.params)
			return f(ev, t0, t1);
		var names = (ev.inputs && ev.inputs.length) ? ev.inputs :
			["ecu_mil_on", "ecu_dtc_count"];
		return names.filter(sig).map(function (n) {
			return { lines: [line(n, t0, t1)], height: 100 };
		});
	}

	function table(rows, head) {
		var t = el("table");
		if (head) {
			var tr = el("tr");
			head.forEach(function (h) { tr.appendChild(el("th", {}, h)); });
			t.appendChild(tr);
		}
		rows.forEach(function (r) {
			var tr = el("tr");
			r.forEach(function (c) { tr.appendChild(el("td", {}, c)); });
			t.appendChild(tr);
		});
		return t;
	}

	function render_event(ev, idx) {
		var sec = el("section", { "class": "event sev-" + ev.severity,
					  id: "event-" + idx });
		sec.appendChild(el("h3", {}, ev.type + " " + ev.code +
			(ev.title ? " — " + ev.title : "")));
		sec.appendChild(el("p", { "class": "meta" }, clock(ev.ts) +
			" · " + L.severity + ": " + ev.severity + " · " +
			L.occurrences + ": " + ev.occurrences));
		var t0 = ev.ts - 60, t1 = ev.ts + 30;
		var fig = el("figure", { "class": "chart",
					 "data-code": ev.code,
					 "data-type": ev.type });
		event_panels(ev, t0, t1).forEach(function (p) {
			p.relative = ev.ts;
			p.marks = [{ t: ev.ts, label: ev.code }];
			fig.appendChild(panel(p, t0, t1));
			if (p.note)
				fig.appendChild(el("figcaption", {}, p.note));
		});
		sec.appendChild(fig);
		var bits = [];
		for (var b = 0; b < 8; b++)
			bits.push(["0x" + (1 << b).toString(16).padStart(2, "0"),
				   STATUS[b], ev.status & (1 << b) ? "1" : "0"]);
		var st = el("div", { "class": "status" });
		st.appendChild(el("h4", {}, L.status + " 0x" +
			ev.status.toString(16).toUpperCase().padStart(2, "0")));
		st.appendChild(table(bits));
		sec.appendChild(st);
		var ff = Object.keys(ev.freeze_frame || {});
		if (ff.length) {
			var fd = el("div", { "class": "freeze" });
			fd.appendChild(el("h4", {}, L.freeze));
			fd.appendChild(table(ff.map(function (k) {
				var v = ev.freeze_frame[k];
				return [k, typeof v === "number" ? fmt(v) : v,
					unit(k) || ""];
			}), [L.signal, L.value, ""]));
			sec.appendChild(fd);
		}
		if (ev.advice) {
			sec.appendChild(el("h4", {}, L.advice));
			sec.appendChild(el("p", { "class": "advice" }, ev.advice));
		}
		if (ev.action) {
			sec.appendChild(el("h4", {}, L.action));
			sec.appendChild(el("p", { "class": "action" }, ev.action));
		}
		return sec;
	}

	function render() {
		var app = document.getElementById("app");
		var t0 = data.start, t1 = data.end;
		document.title = L.title + " — " + data.source;
		app.appendChild(el("h1", {}, L.title));
		app.appendChild(el("p", { "class": "meta" }, L.source + ": " +
			data.source + " · " + L.duration + ": " +
			(t1 - t0).toFixed(1) + " " + L.s + " · " +
			data.generator));
		var evs = data.events;
		var sum = el("section", { id: "summary" });
		if (!evs.length) {
			sum.appendChild(el("p", { "class": "healthy" },
					   L.healthy));
		} else {
			var ul = el("ul");
			evs.forEach(function (ev, i) {
				var li = el("li", { "class": "sev-" + ev.severity });
				var a = el("a", { href: "#event-" + i },
					clock(ev.ts) + "  " + ev.type + " " +
					ev.code + (ev.title ? " " + ev.title : ""));
				li.appendChild(a);
				ul.appendChild(li);
			});
			sum.appendChild(el("h2", {}, L.events + " (" +
					   evs.length + ")"));
			sum.appendChild(ul);
		}
		app.appendChild(sum);

		/* the drive: cycles shaded (warm-up darker), events marked */
		var tl = el("section", { id: "timeline" });
		tl.appendChild(el("h2", {}, L.timeline));
		tl.appendChild(el("p", { "class": "meta" }, data.cycles.length +
			" " + L.cycles + ", " + data.cycles.filter(function (c) {
				return c.warmup; }).length + " × " + L.warmup));
		var shade = data.cycles.map(function (c) {
			return [c.start, c.end, c.warmup ? "cycle warmup" :
				"cycle"];
		});
		var marks = evs.map(function (ev) {
			return { t: ev.ts, label: ev.code };
		});
		["engine_speed_rpm", "coolant_temp_c", "vehicle_speed_kmh"]
			.filter(sig).forEach(function (n) {
				tl.appendChild(panel({ lines: [line(n, t0, t1)],
					shade: shade, marks: marks,
					height: 120 }, t0, t1));
			});
		app.appendChild(tl);

		var ev_sec = el("section", { id: "events" });
		evs.forEach(function (ev, i) {
			ev_sec.appendChild(render_event(ev, i));
		});
		app.appendChild(ev_sec);

		/* every signal the drive had, so a healthy drive shows them */
		var all = el("section", { id: "signals" });
		all.appendChild(el("h2", {}, L.signals));
		Object.keys(data.signals).forEach(function (n) {
			var d = el("details");
			d.appendChild(el("summary", {}, n + " [" + unit(n) + "], " +
				sig(n).t.length + " " + L.points));
			d.appendChild(panel({ lines: [line(n, t0, t1)],
					      shade: shade, height: 100 }, t0, t1));
			all.appendChild(d);
		});
		app.appendChild(all);
		document.body.dataset.charts =
			String(document.querySelectorAll("figure.chart").length);
		document.body.dataset.rendered = "1";
	}
	render();
})();

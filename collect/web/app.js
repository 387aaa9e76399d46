/* app.js: the fleet dashboard: overview, vehicle page, timeline; no libraries */
(function () {
	"use strict";
	var REFRESH_MS = 5000;
	var SEVERITIES = ["critical", "high", "medium", "low"];
	var T = {
		en: {
			vehicle: "Vehicle", state: "State", lastSeen: "Last seen",
			open: "Open DTCs", online: "online", offline: "offline",
			unknown: "unknown", never: "never", fleet: "Fleet",
			noVehicles: "No vehicle has reported yet.",
			noDtcs: "No open DTC.", status: "Status",
			occurrences: "Occurrences", first: "First failure",
			last: "Last failure", freeze: "Freeze frame",
			signal: "Signal", value: "Value",
			action: "Workshop action", timeline: "Timeline",
			noEvents: "No events stored.", version: "dtcd",
			updated: "updated", set: "set", notSet: "not set",
			severity: "Severity", events: "events"
		},
		de: {
			vehicle: "Fahrzeug", state: "Zustand",
			lastSeen: "Zuletzt gesehen", open: "Offene DTCs",
			online: "online", offline: "offline",
			unknown: "unbekannt", never: "nie", fleet: "Flotte",
			noVehicles: "Noch hat sich kein Fahrzeug gemeldet.",
			noDtcs: "Kein offener DTC.", status: "Status",
			occurrences: "Auftreten", first: "Erster Fehler",
			last: "Letzter Fehler", freeze: "Freeze Frame",
			signal: "Signal", value: "Wert",
			action: "Werkstatt-Maßnahme", timeline: "Zeitverlauf",
			noEvents: "Keine Ereignisse gespeichert.",
			version: "dtcd", updated: "aktualisiert",
			set: "gesetzt", notSet: "nicht gesetzt",
			severity: "Schwere", events: "Ereignisse"
		}
	};
	var BITS = dtcdDom.BITS, el = dtcdDom.el, svg = dtcdDom.svg;
	var lang = localStorage.getItem("dtc-collect-lang") || "en";
	var params = new URLSearchParams(location.search);
	if (params.get("lang") === "de" || params.get("lang") === "en")
		lang = params.get("lang");
	var main = document.getElementById("main");
	var errors = [];

	window.addEventListener("error", function (e) {
		errors.push(String(e.message));
		document.body.setAttribute("data-js-errors", errors.join("; "));
	});

	function t(k) { return T[lang][k]; }

	function when(ts) {
		if (ts === null || ts === undefined)
			return t("never");
		return new Date(ts * 1000).toISOString().replace("T", " ")
			.replace(/\.\d+Z$/, " UTC");
	}

	function state(v) {
		var s = v.online === null || v.online === undefined ?
			"unknown" : v.online ? "online" : "offline";
		return el("span", { "class": "badge " + s }, t(s));
	}

	function sevBadge(s) {
		return el("span", { "class": "badge sev-" + (s || "low") },
			  s || "-");
	}

	function get(url) {
		return fetch(url, { credentials: "same-origin" }).then(function (r) {
			if (!r.ok)
				throw new Error(url + ": HTTP " + r.status);
			return r.json();
		});
	}

	function overview(data) {
		var box = el("div");
		box.appendChild(el("h2", null, t("fleet") + " (" +
				   data.vehicles.length + ")"));
		if (!data.vehicles.length) {
			box.appendChild(el("p", { "class": "note" }, t("noVehicles")));
			return box;
		}
		var tab = el("table", { "class": "fleet" });
		var head = el("tr");
		[t("vehicle"), t("state"), t("lastSeen"), t("open")].forEach(
			function (h) { head.appendChild(el("th", null, h)); });
		tab.appendChild(head);
		data.vehicles.forEach(function (v) {
			var tr = el("tr", { "class": "vehicle",
					    "data-vehicle": v.vehicle });
			var a = el("a", { href: "/vehicle/" +
					  encodeURIComponent(v.vehicle) }, v.vehicle);
			var td = el("td");
			td.appendChild(a);
			tr.appendChild(td);
			td = el("td");
			td.appendChild(state(v));
			tr.appendChild(td);
			tr.appendChild(el("td", null, when(v.last_seen)));
			td = el("td", { "class": "open" });
			SEVERITIES.forEach(function (s) {
				var n = v.open[s] || 0;
				var b = el("span", { "class": "count badge " +
						     (n ? "sev-" + s : "zero"),
						     "data-severity": s },
					   n + " " + s);
				td.appendChild(b);
			});
			tr.appendChild(td);
			tab.appendChild(tr);
		});
		box.appendChild(tab);
		return box;
	}

	function bits(status) {
		var ul = el("ul", { "class": "bits" });
		BITS.forEach(function (name, i) {
			var on = (status >> i) & 1;
			ul.appendChild(el("li", { "class": on ? "set" : "clear" },
					  "bit " + i + " " + name + ": " +
					  (on ? t("set") : t("notSet"))));
		});
		return ul;
	}

	function freeze(ff) {
		var tab = el("table", { "class": "freeze" });
		var head = el("tr");
		head.appendChild(el("th", null, t("signal")));
		head.appendChild(el("th", null, t("value")));
		tab.appendChild(head);
		Object.keys(ff || {}).forEach(function (k) {
			var tr = el("tr");
			tr.appendChild(el("td", null, k));
			tr.appendChild(el("td", null, ff[k] === null ? "-" : ff[k]));
			tab.appendChild(tr);
		});
		return tab;
	}

	function dtc(d) {
		var sec = el("section", { "class": "dtc " + (d.severity || ""),
					  "data-code": d.code });
		var title = d["title_" + lang] || d.title || "";
		var h = el("h3", null, d.code + " ");
		h.appendChild(sevBadge(d.severity));
		h.appendChild(document.createTextNode(" " + title));
		sec.appendChild(h);
		var grid = el("div", { "class": "grid" });
		var left = el("div");
		var facts = el("table", { "class": "facts" });
		[[t("status"), "0x" + ("0" + (d.status || 0).toString(16))
		  .slice(-2).toUpperCase()],
		 [t("occurrences"), d.occurrences],
		 [t("first"), when(d.first_failure)],
		 [t("last"), when(d.last_failure)]].forEach(function (r) {
			var tr = el("tr");
			tr.appendChild(el("th", null, r[0]));
			tr.appendChild(el("td", null, r[1]));
			facts.appendChild(tr);
		});
		left.appendChild(facts);
		left.appendChild(bits(d.status || 0));
		grid.appendChild(left);
		var right = el("div");
		right.appendChild(el("h4", null, t("freeze")));
		right.appendChild(freeze(d.freeze_frame));
		grid.appendChild(right);
		sec.appendChild(grid);
		sec.appendChild(el("h4", null, t("action")));
		sec.appendChild(el("p", { "class": "action", lang: lang },
				   d["action_" + lang] || d.action || "-"));
		return sec;
	}

	/* one row per code, a mark per event at its time */
	function timeline(events) {
		var W = 1000, left = 90, right = 20, top = 20, row = 26;
		var codes = [];
		events.forEach(function (e) {
			var c = e.code || e.event;
			if (codes.indexOf(c) < 0)
				codes.push(c);
		});
		var H = top + row * codes.length + 40;
		var s = svg("svg", { "class": "timeline", viewBox: "0 0 " + W +
				     " " + H, "data-events": events.length });
		var t0 = events[0].ts, t1 = events[events.length - 1].ts;
		if (t1 - t0 < 1)
			t1 = t0 + 1;
		function x(ts) { return left + (ts - t0) / (t1 - t0) *
				 (W - left - right); }
		codes.forEach(function (c, i) {
			var y = top + row * i + row / 2;
			s.appendChild(svg("line", { "class": "grid", x1: left, x2: W - right,
						    y1: y, y2: y }));
			s.appendChild(svg("text", { x: 4, y: y + 4 }, c));
		});
		var base = top + row * codes.length + 4;
		s.appendChild(svg("line", { "class": "axis", x1: left, x2: W - right,
					    y1: base, y2: base }));
		for (var k = 0; k <= 4; k++) {
			var ts = t0 + (t1 - t0) * k / 4;
			var label = new Date(ts * 1000).toISOString().slice(11, 19);
			s.appendChild(svg("text", { x: x(ts), y: base + 16,
					  "text-anchor": k === 0 ? "start" :
					  k === 4 ? "end" : "middle" }, label));
		}
		s.appendChild(svg("text", { x: left, y: base + 32 },
				  new Date(t0 * 1000).toISOString().slice(0, 10) +
				  " UTC, " + events.length + " " + t("events")));
		events.forEach(function (e) {
			var c = e.code || e.event;
			var kind = ["pending", "confirmed", "healed", "cleared",
				    "ecu"].indexOf(e.event) >= 0 ? e.event : "other";
			var m = svg("circle", { "class": "ev ev-" + kind,
						cx: x(e.ts).toFixed(1),
						cy: top + row * codes.indexOf(c) + row / 2,
						r: 6, "data-code": c,
						"data-event": e.event });
			m.appendChild(svg("title", {}, c + " " + e.event + " " +
					  when(e.ts)));
			s.appendChild(m);
		});
		return s;
	}

	function vehicle(v) {
		var box = el("div", { "class": "vehicle-page",
				      "data-vehicle": v.vehicle });
		var h = el("h2", null, t("vehicle") + " " + v.vehicle + " ");
		h.appendChild(state(v));
		box.appendChild(h);
		box.appendChild(el("p", null, t("lastSeen") + ": " +
				   when(v.last_seen) + (v.dtcd_version ?
				   ", " + t("version") + " " + v.dtcd_version : "")));
		box.appendChild(el("h3", null, t("timeline")));
		if (v.events.length)
			box.appendChild(timeline(v.events));
		else
			box.appendChild(el("p", { "class": "note" }, t("noEvents")));
		box.appendChild(el("h3", null, t("open") + " (" + v.dtcs.length + ")"));
		if (!v.dtcs.length)
			box.appendChild(el("p", { "class": "note" }, t("noDtcs")));
		var order = { critical: 0, high: 1, medium: 2, low: 3 };
		v.dtcs.slice().sort(function (a, b) {
			return (order[a.severity] || 4) - (order[b.severity] || 4);
		}).forEach(function (d) { box.appendChild(dtc(d)); });
		return box;
	}

	function render() {
		var m = location.pathname.match(/^\/vehicle\/(.+)$/);
		var id = m ? decodeURIComponent(m[1]) : null;
		document.getElementById("where").textContent = id || t("fleet");
		document.documentElement.lang = lang;
		Array.prototype.forEach.call(document.querySelectorAll(".langs button"),
			function (b) {
				b.className = b.getAttribute("data-lang") === lang ? "on" : "";
			});
		var p = id ? get("/api/vehicles/" + encodeURIComponent(id))
			.then(vehicle) : get("/api/vehicles").then(overview);
		return p.then(function (node) {
			main.replaceChildren(node);
			document.getElementById("updated").textContent =
				t("updated") + " " + new Date().toISOString()
				.slice(11, 19) + " UTC";
			document.body.setAttribute("data-rendered", "1");
		}).catch(function (e) {
			main.replaceChildren(el("p", { "class": "error" }, e.message));
			document.body.setAttribute("data-rendered", "error");
		});
	}

	Array.prototype.forEach.call(document.querySelectorAll(".langs button"),
		function (b) {
			b.addEventListener("click", function () {
				lang = b.getAttribute("data-lang");
				localStorage.setItem("dtc-collect-lang", lang);
				render();
			});
		});
	render();
	setInterval(render, REFRESH_MS);
})();

/* dom.js: what the drive report and the fleet dashboard draw with */
var dtcdDom = (function () {
	"use strict";
	var SVG = "http://www.w3.org/2000/svg";

	function fill(e, attrs, text) {
		for (var k in attrs || {})
			e.setAttribute(k, attrs[k]);
		if (text !== undefined && text !== null)
			e.textContent = String(text);
		return e;
	}

	return {
		el: function (tag, attrs, text) {
			return fill(document.createElement(tag), attrs, text);
		},
		svg: function (tag, attrs, text) {
			return fill(document.createElementNS(SVG, tag), attrs, text);
		},
		/* the status byte's bits, ISO 14229-1 names */
		BITS: [
			"testFailed", "testFailedThisOperationCycle",
			"pendingDTC", "confirmedDTC",
			"testNotCompletedSinceLastClear",
			"testFailedSinceLastClear",
			"testNotCompletedThisOperationCycle",
			"warningIndicatorRequested"
		]
	};
})();

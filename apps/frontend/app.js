// The lab's front page: the five newest #love posts, refreshed every 30 s.
// Reads /api/tweets/last/5 (same origin; nginx proxies /api/ to the collector).
(function () {
  "use strict";

  var URL = "/api/tweets/last/5";
  var REFRESH_MS = 30000;

  var list = document.getElementById("tweets");
  var updated = document.getElementById("updated");
  var status = document.getElementById("status");

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text; // never innerHTML: posts are untrusted
    return e;
  }

  function when(iso) {
    var d = new Date(iso);
    return isNaN(d.getTime()) ? String(iso || "") : d.toLocaleString();
  }

  function render(posts) {
    posts = posts.slice().sort(function (a, b) { return b.id - a.id; }); // newest first
    list.replaceChildren();
    if (posts.length === 0) {
      list.appendChild(el("li", "empty", "No posts yet."));
      return;
    }
    posts.forEach(function (p) {
      var li = el("li", "tweet");
      li.dataset.id = p.id;
      var head = el("div", "head");
      head.appendChild(el("span", "user", "@" + p.user));
      var t = el("time", "time", when(p.created_at));
      t.dateTime = p.created_at;
      head.appendChild(t);
      li.appendChild(head);
      li.appendChild(el("p", "text", p.text));
      list.appendChild(li);
    });
  }

  function refresh() {
    fetch(URL, { headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then(function (posts) {
        render(Array.isArray(posts) ? posts : []);
        var now = new Date();
        updated.textContent = now.toLocaleTimeString();
        updated.dateTime = now.toISOString();
        status.textContent = "";
        status.className = "status";
      })
      .catch(function (err) {
        status.textContent = "Update failed (" + err.message + "); will retry.";
        status.className = "status error";
        var loading = list.querySelector(".loading");
        if (loading) loading.textContent = "Could not load the posts yet.";
      });
  }

  refresh();
  setInterval(refresh, REFRESH_MS);
})();

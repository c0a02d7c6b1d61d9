/* Invisalign Doctor Site: patient list (card variants) and patient file (client-side app).
 *
 * Each page has a host element `.shadow-root-container` whose open shadow root the script renders
 * into, loading its data from the JSON API with the session cookie and the X-CSRF-TOKEN header
 * (copied from the CSRF-TOKEN cookie). Names of test ids and JSON fields come from the BUILD object
 * the server writes in front of this file, so a front-end release (layout 2) can rename them; the
 * words come from the page's `ids-labels` data island, in the page's language. All data is
 * inserted as text, never as HTML.
 *
 * The list comes in two card variants (data-variant): "filter-dropdown" (a Filter button opening
 * the filter options, with active-filter markers) and "legacy-tab" (the older #tab-action tab).
 */
(function () {
  "use strict";
  var BUILD = /*@BUILD@*/ {};
  var T = BUILD.testIds;
  var F = BUILD.fields;
  var island = document.getElementById("ids-labels");
  var L = island ? JSON.parse(island.textContent) : {};
  var LANG = document.documentElement.lang || "en";

  var STYLE =
    ":host{display:block;font:14px/1.45 system-ui,sans-serif;color:#1d2433}" +
    ".toolbar{display:flex;gap:8px;align-items:center;margin:0 0 12px;flex-wrap:wrap}" +
    "button{font:inherit;padding:6px 12px;border:1px solid #8a94a6;border-radius:4px;background:#fff;cursor:pointer}" +
    "button[disabled]{opacity:.45;cursor:default}" +
    ".menu{display:flex;flex-direction:column;position:absolute;background:#fff;border:1px solid #8a94a6;z-index:2}" +
    ".menu[hidden]{display:none}.filter{position:relative}" +
    ".tabs{display:flex;gap:4px;list-style:none;padding:0;margin:0}" +
    ".tabs a{display:inline-block;padding:6px 12px;border:1px solid #8a94a6;cursor:pointer}" +
    ".tabs a.active{background:#00758f;color:#fff}" +
    ".tag{display:inline-block;padding:2px 8px;border-radius:10px;background:#d8eef3}" +
    ".cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:12px}" +
    "article{border:1px solid #d5dae3;border-radius:6px;padding:12px;background:#fff}" +
    "article a{font-weight:600;color:#00758f;text-decoration:none}" +
    ".muted{color:#5d6778;font-size:12px}" +
    ".badge{display:inline-block;padding:1px 6px;border-radius:10px;background:#fde7d9;color:#8a3b00;font-size:12px}" +
    ".pager{display:flex;gap:8px;align-items:center;margin-top:16px}" +
    "section{margin:16px 0}" +
    "textarea{width:100%;min-height:70px;font:inherit}" +
    ".comment{border-left:3px solid #d5dae3;padding:4px 10px;margin:8px 0}" +
    ".comment[data-unread=true]{border-left-color:#e36f1e}" +
    ".error{color:#a4000f}.done{color:#116b2f}";

  function cookie(name) {
    var parts = document.cookie ? document.cookie.split("; ") : [];
    for (var i = 0; i < parts.length; i++) {
      var eq = parts[i].indexOf("=");
      if (parts[i].slice(0, eq) === name) return decodeURIComponent(parts[i].slice(eq + 1));
    }
    return "";
  }

  function api(path, options) {
    options = options || {};
    var headers = { Accept: "application/json", "X-CSRF-TOKEN": cookie("CSRF-TOKEN") };
    if (options.body) headers["Content-Type"] = "application/json";
    return fetch(path, {
      method: options.method || "GET",
      credentials: "same-origin",
      headers: headers,
      body: options.body ? JSON.stringify(options.body) : undefined,
    }).then(function (response) {
      if (response.status === 401) {
        // The session ended: reloading the page sends the browser through the login.
        window.location.reload();
        return new Promise(function () {});
      }
      return response;
    });
  }

  /* A template's standalone N (and M) filled in, as the server's i18n.text() does. */
  function fill(template, n, m) {
    return String(template)
      .replace(/(?<![A-Za-z0-9_])N(?![A-Za-z0-9_])/g, String(n))
      .replace(/(?<![A-Za-z0-9_])M(?![A-Za-z0-9_])/g, String(m));
  }

  function el(tag, attrs) {
    var node = document.createElement(tag);
    var keys = Object.keys(attrs || {});
    for (var i = 0; i < keys.length; i++) {
      var value = attrs[keys[i]];
      if (value === null || value === undefined || value === false) continue;
      if (keys[i] === "text") node.textContent = value;
      else if (keys[i] === "testid") node.setAttribute("data-testid", T[value]);
      else node.setAttribute(keys[i], value === true ? "" : value);
    }
    for (var j = 2; j < arguments.length; j++) {
      if (arguments[j]) node.appendChild(arguments[j]);
    }
    return node;
  }

  function when(iso) {
    return new Date(iso).toLocaleString(LANG, {
      dateStyle: "medium",
      timeStyle: "short",
      timeZone: "UTC",
    }) + " UTC";
  }

  function size(bytes) {
    if (bytes >= 1048576) return (bytes / 1048576).toFixed(1) + " MB";
    return Math.max(1, Math.round(bytes / 1024)) + " KB";
  }

  function shell(host) {
    var root = host.shadowRoot || host.attachShadow({ mode: "open" });
    root.textContent = "";
    root.appendChild(el("style", { text: STYLE }));
    var main = el("div", { class: "app" });
    root.appendChild(main);
    return main;
  }

  function loading(main) {
    main.textContent = "";
    main.appendChild(el("p", { testid: "loading", role: "status", text: L.loading }));
  }

  function failure(main, response, retry) {
    main.textContent = "";
    if (response && response.status === 403) {
      main.appendChild(el("p", { testid: "noAccess", role: "alert", text: L.noAccess }));
      return;
    }
    var button = el("button", { type: "button", text: L.tryAgain });
    button.addEventListener("click", retry);
    main.appendChild(el("p", { testid: "error", role: "alert", class: "error", text: L.error }));
    main.appendChild(button);
  }

  // Patient list ---------------------------------------------------------------------------------

  function PatientList(host) {
    var query = new URLSearchParams(window.location.search);
    var asked = query.get("filter");
    this.api = host.getAttribute("data-api");
    this.variant = host.getAttribute("data-variant");
    this.page = Math.max(1, parseInt(query.get("page") || "1", 10) || 1);
    this.filter = asked === "ALL" || asked === "ACTION_REQUIRED" ? asked : host.getAttribute("data-filter");
    this.search = query.get("search") || "";
    this.pageSize = parseInt(host.getAttribute("data-page-size") || "20", 10);
    this.main = shell(host);
    this.load();
  }

  PatientList.prototype.go = function (page, filter, search) {
    this.page = page;
    this.filter = filter;
    this.search = search;
    var url = new URL(window.location.href);
    url.searchParams.set("page", String(page));
    url.searchParams.set("filter", filter);
    if (search) url.searchParams.set("search", search);
    else url.searchParams.delete("search");
    window.history.pushState(null, "", url.toString());
    this.load();
  };

  PatientList.prototype.load = function () {
    var self = this;
    loading(self.main);
    var path =
      self.api + "/patients?page=" + self.page + "&pageSize=" + self.pageSize +
      "&filter=" + self.filter + (self.search ? "&search=" + encodeURIComponent(self.search) : "");
    api(path)
      .then(function (response) {
        if (!response.ok) return failure(self.main, response, self.load.bind(self));
        return response.json().then(function (data) { self.render(data); });
      })
      .catch(function () { failure(self.main, null, self.load.bind(self)); });
  };

  PatientList.prototype.filterControl = function (data) {
    var self = this;
    var action = self.filter === "ACTION_REQUIRED";
    var waiting = L.filterAction + " (" + data.counts.actionRequired + ")";
    if (self.variant === "legacy-tab") {
      var current = el("a", { id: "tab-current", role: "tab", class: action ? "current" : "current active",
                              "aria-selected": String(!action), text: L.filterAll });
      var tab = el("a", { id: "tab-action", role: "tab", class: action ? "action active" : "action",
                          "aria-selected": String(action), text: waiting });
      current.addEventListener("click", function () { self.go(1, "ALL", self.search); });
      tab.addEventListener("click", function () { self.go(1, "ACTION_REQUIRED", self.search); });
      return el("ul", { class: "tabs", role: "tablist" }, el("li", {}, current), el("li", {}, tab));
    }
    var menu = el("div", { class: "menu", role: "menu", hidden: true });
    var all = el("button", { type: "button", role: "menuitemradio", testid: "filterAll",
                             "aria-checked": String(!action), text: L.filterAll });
    var only = el("button", { type: "button", role: "menuitemradio", testid: "filterAction",
                              "aria-checked": String(action), text: waiting });
    all.addEventListener("click", function () { self.go(1, "ALL", self.search); });
    only.addEventListener("click", function () { self.go(1, "ACTION_REQUIRED", self.search); });
    menu.appendChild(all);
    menu.appendChild(only);
    var button = el("button", { type: "button", testid: "filterButton", "aria-haspopup": "menu",
                                "aria-expanded": "false", text: action ? L.filterCount : L.filter });
    button.addEventListener("click", function () {
      var open = menu.hasAttribute("hidden");
      if (open) menu.removeAttribute("hidden");
      else menu.setAttribute("hidden", "");
      button.setAttribute("aria-expanded", String(open));
    });
    return el("div", { class: "filter", testid: "filterContainer" }, button, menu);
  };

  PatientList.prototype.render = function (data) {
    var self = this;
    var main = self.main;
    main.textContent = "";
    var search = el("input", { type: "search", name: "search", "aria-label": L.search,
                               placeholder: L.search, value: self.search });
    search.addEventListener("keydown", function (event) {
      if (event.key === "Enter") self.go(1, self.filter, search.value.trim());
    });
    var total = data[F.totalCount];
    var body = el("div", { testid: "pageBody" },
      el("div", { class: "toolbar", role: "toolbar" }, search, self.filterControl(data),
         el("span", { testid: "total", class: "muted", text: fill(L.count, total) })));
    if (self.variant !== "legacy-tab" && self.filter === "ACTION_REQUIRED") {
      body.appendChild(el("div", { testid: "activeFilters" },
        el("div", { testid: "activeFiltersBar" },
           el("span", { testid: "tagAction", class: "tag", text: L.filterAction }))));
    }
    var list = el("div", { testid: "listRoot", class: "cards", role: "list" });
    var patients = data[F.patients];
    if (!patients.length) {
      list.appendChild(el("div", { testid: "emptyContainer" },
        el("p", { testid: "emptyText", text: L.empty }), el("p", { text: L.emptyHint })));
    }
    for (var i = 0; i < patients.length; i++) {
      var treatments = patients[i].treatments;
      for (var t = 0; t < treatments.length; t++) list.appendChild(self.card(patients[i], treatments[t], t === 0));
    }
    body.appendChild(list);

    var pages = data[F.totalPages];
    var prev = el("button", { type: "button", testid: "prev", text: L.previous, disabled: self.page <= 1 });
    var next = el("button", { type: "button", testid: "next", text: L.next, disabled: self.page >= pages });
    prev.addEventListener("click", function () { self.go(self.page - 1, self.filter, self.search); });
    next.addEventListener("click", function () { self.go(self.page + 1, self.filter, self.search); });
    body.appendChild(
      el("nav", { class: "pager", "aria-label": L.pageInfo }, prev,
         el("span", { testid: "pageInfo", text: fill(L.pageInfo, self.page, Math.max(1, pages)) }),
         next),
    );
    main.appendChild(body);
  };

  PatientList.prototype.card = function (p, treatment, current) {
    var id = p[F.patientId];
    var action = current ? p[F.actionRequired] : null;
    var unread = current ? p[F.unreadComments] : 0;
    var conditions = treatment.conditions.join(", ");
    return el(
      "article",
      { testid: "card", role: "listitem", "data-patient-id": id },
      el("a", { testid: "link", href: p.detailUrl },
         el("span", { testid: "name", text: p[F.patientName] })),
      el("div", { class: "muted" },
         el("span", { testid: "id", text: "#" + id }),
         document.createTextNode(" \u00b7 " + p.doctorName)),
      el("div", {}, el("span", { testid: "status", text: treatment[F.trackerStatus] })),
      el("div", { testid: "treatment", text: treatment.package }),
      el("div", { testid: "conditions", class: "muted", text: conditions }),
      el("div", { testid: "notes", class: "muted", text: treatment.notes }),
      action ? el("div", {}, el("span", { testid: "actionRequired", class: "badge", text: action })) : null,
      unread ? el("div", {}, el("span", { testid: "unread", class: "badge", text: fill(L.unread, unread) })) : null,
      el("div", { class: "muted" }, document.createTextNode(L.lastActivity + " "),
         el("time", { testid: "lastActivity", datetime: p[F.lastActivity], text: when(p[F.lastActivity]) })),
    );
  };

  // Patient file ---------------------------------------------------------------------------------

  function PatientFile(host) {
    this.api = host.getAttribute("data-api");
    this.patientId = host.getAttribute("data-patient-id");
    this.main = shell(host);
    this.notice = null;
    this.load();
  }

  PatientFile.prototype.load = function () {
    var self = this;
    loading(self.main);
    api(self.api + "/patients/" + encodeURIComponent(self.patientId))
      .then(function (response) {
        if (!response.ok) return failure(self.main, response, self.load.bind(self));
        return response.json().then(function (data) { self.render(data); });
      })
      .catch(function () { failure(self.main, null, self.load.bind(self)); });
  };

  PatientFile.prototype.post = function (path, body) {
    var self = this;
    return api(path, { method: "POST", body: body }).then(function (response) {
      return response.json().then(function (data) {
        self.notice = {
          testid: response.ok ? "actionDone" : "actionError",
          text: data.message || String(response.status),
        };
        self.load();
      });
    }).catch(function () {
      self.notice = { testid: "actionError", text: L.error };
      self.load();
    });
  };

  PatientFile.prototype.render = function (d) {
    var self = this;
    var main = self.main;
    var base = self.api + "/patients/" + encodeURIComponent(d[F.patientId]);
    var perms = d.permissions;
    main.textContent = "";
    main.appendChild(el("p", {}, el("a", { href: "/v3/auth/patient/patientList.action",
                                           text: "\u2190 " + L.patients })));
    if (self.notice) {
      main.appendChild(el("p", { testid: self.notice.testid, role: "status",
                                 class: self.notice.testid === "actionError" ? "error" : "done",
                                 text: self.notice.text }));
      self.notice = null;
    }
    main.appendChild(
      el("header", {},
         el("h1", { testid: "name", text: d[F.patientName] }),
         el("p", { class: "muted" }, el("span", { testid: "id", text: "#" + d[F.patientId] }),
            document.createTextNode(" \u00b7 "), el("span", { testid: "doctor", text: d.doctorName })),
         el("p", {}, el("strong", { testid: "status", text: d[F.trackerStatus] }),
            d[F.actionRequired]
              ? el("span", { testid: "actionRequired", class: "badge", text: " " + d[F.actionRequired] })
              : null)),
    );

    var history = el("ol", {});
    d[F.statusHistory].forEach(function (h) {
      history.appendChild(el("li", { testid: "historyItem" }, el("span", { text: h.status }),
        document.createTextNode(" \u2014 "), el("time", { datetime: h.date, text: when(h.date) })));
    });
    main.appendChild(el("section", { "aria-label": L.history }, el("h2", { text: L.history }), history));

    var plans = el("section", { "aria-label": L.plans }, el("h2", { text: L.plans }));
    var list = d[F.clinCheckPlans];
    if (!list.length) plans.appendChild(el("p", { class: "muted", text: L.noPlan }));
    list.slice().reverse().forEach(function (plan) {
      plans.appendChild(self.plan(plan, base, perms));
    });
    main.appendChild(plans);

    var thread = el("section", { "aria-label": L.comments }, el("h2", { text: L.comments }));
    var comments = d[F.comments];
    var unread = comments.filter(function (c) { return c.unread; }).length;
    if (unread) {
      var mark = el("button", { type: "button", testid: "markRead", text: fill(L.markRead, unread) });
      mark.addEventListener("click", function () { self.post(base + "/comments/read", {}); });
      thread.appendChild(mark);
    }
    comments.forEach(function (c) {
      thread.appendChild(
        el("div", { testid: "comment", class: "comment", "data-comment-id": c[F.commentId],
                    "data-unread": String(c.unread) },
           el("div", { class: "muted" },
              el("span", { testid: "commentAuthor", text: c.authorName }),
              document.createTextNode(" ("),
              el("span", { testid: "commentRole", "data-role": c.authorRole,
                           text: L["role." + c.authorRole] || c.authorRole }),
              document.createTextNode(") \u00b7 "),
              el("time", { testid: "commentDate", datetime: c.createdAt, text: when(c.createdAt) }),
              c.unread ? el("span", { testid: "commentUnread", class: "badge", text: " " + L.newComment }) : null),
           c.type === "MODIFICATION_REQUEST"
             ? el("div", { class: "muted", text: L.modificationNote })
             : null,
           el("p", { testid: "commentBody", text: c.body })),
      );
    });
    if (perms.canComment) {
      var input = el("textarea", { testid: "commentInput", name: "body", maxlength: "4000",
                                   "aria-label": L.addComment, placeholder: L.commentPlaceholder });
      var send = el("button", { type: "button", testid: "commentSubmit", text: L.postComment });
      send.addEventListener("click", function () {
        if (!input.value.trim()) return;
        send.disabled = true;
        self.post(base + "/comments", { body: input.value });
      });
      thread.appendChild(el("div", {}, input, send));
    }
    main.appendChild(thread);
  };

  PatientFile.prototype.plan = function (plan, base, perms) {
    var self = this;
    var files = el("ul", {});
    plan.files.forEach(function (f) {
      files.appendChild(el("li", { testid: "planFile", "data-file-kind": f.fileType },
        el("span", { text: f.fileName }), document.createTextNode(" \u00b7 " + f.fileType + " \u00b7 "),
        el("span", { "data-bytes": String(f.fileSize), text: size(f.fileSize) })));
    });
    var box = el(
      "article",
      { testid: "plan", "data-plan-id": plan[F.planId], "data-version": String(plan.version) },
      el("h3", {}, el("span", { testid: "planVersion", text: fill(L.planVersion, plan.version) })),
      el("p", {}, el("span", { testid: "planState", text: plan.state }),
         document.createTextNode(" \u00b7 " + L.created + " "),
         el("time", { testid: "planCreated", datetime: plan.createdAt, text: when(plan.createdAt) })),
      el("p", {}, el("a", { testid: "planViewer", href: plan.viewerUrl, text: L.openClinCheck })),
      files,
    );
    if (!plan.reviewable) return box;
    var planPath = base + "/clincheck/" + encodeURIComponent(plan[F.planId]);
    if (perms.canRequestModification) {
      var instructions = el("textarea", { testid: "modificationInput", name: "instructions",
                                          maxlength: "4000", "aria-label": L.modificationInput,
                                          placeholder: L.modificationPlaceholder });
      var request = el("button", { type: "button", testid: "modificationSubmit",
                                   text: L.requestModification });
      request.addEventListener("click", function () {
        if (!instructions.value.trim()) return;
        request.disabled = true;
        self.post(planPath + "/modification", { instructions: instructions.value });
      });
      box.appendChild(el("div", {}, instructions, request));
    }
    if (perms.canApprove) {
      var approve = el("button", { type: "button", testid: "approve", text: L.approve });
      approve.addEventListener("click", function () {
        approve.disabled = true;
        self.post(planPath + "/approve", {});
      });
      box.appendChild(approve);
    }
    return box;
  };

  function start() {
    var list = document.getElementById("patient-list");
    if (list && list.hasAttribute("data-variant")) new PatientList(list);
    var file = document.getElementById("patient-file");
    if (file) new PatientFile(file);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
  window.addEventListener("popstate", function () { window.location.reload(); });
})();

/* Invisalign Doctor Site: patient list and patient detail (client-side app).
 *
 * Each page is a custom element that renders into an open shadow root and loads its data from
 * the JSON API with the session cookie and the X-CSRF-TOKEN header (copied from the CSRF-TOKEN
 * cookie), as the real site's front end does. Names of test ids and JSON fields come from the
 * BUILD object the server writes in front of this file, so a front-end release (layout 2) can
 * rename them. All data is inserted as text, never as HTML.
 */
(function () {
  "use strict";
  var BUILD = /*@BUILD@*/ {};
  var T = BUILD.testIds;
  var F = BUILD.fields;

  var STYLE =
    ":host{display:block;font:14px/1.45 system-ui,sans-serif;color:#1d2433}" +
    ".toolbar{display:flex;gap:8px;align-items:center;margin:0 0 12px}" +
    "button{font:inherit;padding:6px 12px;border:1px solid #8a94a6;border-radius:4px;background:#fff;cursor:pointer}" +
    "button[aria-pressed=true]{background:#00758f;color:#fff;border-color:#00758f}" +
    "button[disabled]{opacity:.45;cursor:default}" +
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
    var text = new Date(iso).toLocaleString("en-US", {
      dateStyle: "medium",
      timeStyle: "short",
      timeZone: "UTC",
    });
    return text + " UTC";
  }

  var ROLE_LABELS = { doctor: "Doctor", staff: "Staff", technician: "ClinCheck technician" };

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
    main.appendChild(el("p", { testid: "loading", role: "status", text: "Loading..." }));
  }

  function failure(main, response, retry) {
    main.textContent = "";
    if (response && response.status === 403) {
      main.appendChild(
        el("p", {
          testid: "noAccess",
          role: "alert",
          text:
            "You do not have access to patient information. Ask the doctor to add the " +
            "Patient management, Prescription management or Treatment management role to " +
            "your staff account.",
        })
      );
      return;
    }
    var button = el("button", { type: "button", text: "Try again" });
    button.addEventListener("click", retry);
    main.appendChild(
      el("p", { testid: "error", role: "alert", class: "error",
                text: "We could not load this page. Please try again." }),
    );
    main.appendChild(button);
  }

  // Patient list -------------------------------------------------------------------------------

  class PatientList extends HTMLElement {}

  PatientList.prototype.connectedCallback = function () {
    var query = new URLSearchParams(window.location.search);
    this.page = Math.max(1, parseInt(query.get("page") || "1", 10) || 1);
    this.filter = query.get("filter") === "ACTION_REQUIRED" ? "ACTION_REQUIRED" : "ALL";
    this.pageSize = parseInt(this.getAttribute("page-size") || "20", 10);
    this.main = shell(this);
    this.load();
  };

  PatientList.prototype.go = function (page, filter) {
    this.page = page;
    this.filter = filter;
    var url = new URL(window.location.href);
    url.searchParams.set("page", String(page));
    url.searchParams.set("filter", filter);
    window.history.pushState(null, "", url.toString());
    this.load();
  };

  PatientList.prototype.load = function () {
    var self = this;
    loading(self.main);
    var path =
      "/v3/api/patients?page=" + self.page + "&pageSize=" + self.pageSize +
      "&filter=" + self.filter;
    api(path)
      .then(function (response) {
        if (!response.ok) return failure(self.main, response, self.load.bind(self));
        return response.json().then(function (data) { self.render(data); });
      })
      .catch(function () { failure(self.main, null, self.load.bind(self)); });
  };

  PatientList.prototype.render = function (data) {
    var self = this;
    var main = self.main;
    main.textContent = "";
    var all = el("button", { type: "button", testid: "filterAll",
                             "aria-pressed": String(self.filter === "ALL"), text: "All patients" });
    var action = el("button", {
      type: "button",
      testid: "filterAction",
      "aria-pressed": String(self.filter === "ACTION_REQUIRED"),
      text: "Action required (" + data.counts.actionRequired + ")",
    });
    all.addEventListener("click", function () { self.go(1, "ALL"); });
    action.addEventListener("click", function () { self.go(1, "ACTION_REQUIRED"); });
    var total = data[F.totalCount];
    main.appendChild(
      el("div", { class: "toolbar", role: "toolbar" }, all, action,
         el("span", { testid: "total", class: "muted", text: total + " patients" })),
    );

    var patients = data[F.patients];
    if (!patients.length) {
      main.appendChild(el("p", { testid: "empty", text: "No patients to show." }));
    }
    var list = el("div", { class: "cards", role: "list" });
    for (var i = 0; i < patients.length; i++) list.appendChild(self.card(patients[i]));
    main.appendChild(list);

    var pages = data[F.totalPages];
    var prev = el("button", { type: "button", testid: "prev", text: "Previous",
                              disabled: self.page <= 1 });
    var next = el("button", { type: "button", testid: "next", text: "Next",
                              disabled: self.page >= pages });
    prev.addEventListener("click", function () { self.go(self.page - 1, self.filter); });
    next.addEventListener("click", function () { self.go(self.page + 1, self.filter); });
    main.appendChild(
      el("nav", { class: "pager", "aria-label": "Pagination" }, prev,
         el("span", { testid: "pageInfo", text: "Page " + self.page + " of " + Math.max(1, pages) }),
         next),
    );
  };

  PatientList.prototype.card = function (p) {
    var id = p[F.patientId];
    var action = p[F.actionRequired];
    var unread = p[F.unreadComments];
    return el(
      "article",
      { testid: "card", role: "listitem", "data-patient-id": id },
      el("a", { testid: "link", href: p.detailUrl },
         el("span", { testid: "name", text: p[F.patientName] })),
      el("div", { class: "muted" },
         el("span", { testid: "id", text: "#" + id }),
         document.createTextNode(" \u00b7 Dr. " + p.doctorName.replace(/^Dr\. /, ""))),
      el("div", {}, el("span", { testid: "status", text: p[F.trackerStatus] })),
      action ? el("div", {}, el("span", { testid: "actionRequired", class: "badge", text: action })) : null,
      unread ? el("div", {}, el("span", { testid: "unread", class: "badge",
                                          text: unread + " unread" })) : null,
      el("div", { class: "muted" }, document.createTextNode("Last activity "),
         el("time", { testid: "lastActivity", datetime: p[F.lastActivity],
                      text: when(p[F.lastActivity]) })),
    );
  };

  // Patient detail -----------------------------------------------------------------------------

  class PatientDetail extends HTMLElement {}

  PatientDetail.prototype.connectedCallback = function () {
    this.patientId = this.getAttribute("patient-id");
    this.main = shell(this);
    this.notice = null;
    this.load();
  };

  PatientDetail.prototype.load = function () {
    var self = this;
    loading(self.main);
    api("/v3/api/patients/" + encodeURIComponent(self.patientId))
      .then(function (response) {
        if (!response.ok) return failure(self.main, response, self.load.bind(self));
        return response.json().then(function (data) { self.render(data); });
      })
      .catch(function () { failure(self.main, null, self.load.bind(self)); });
  };

  PatientDetail.prototype.post = function (path, body) {
    var self = this;
    return api(path, { method: "POST", body: body }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) {
          self.notice = { testid: "actionError", text: data.message || "The request failed." };
        } else {
          self.notice = { testid: "actionDone", text: data.message || "Saved." };
        }
        self.load();
      });
    });
  };

  PatientDetail.prototype.render = function (d) {
    var self = this;
    var main = self.main;
    var base = "/v3/api/patients/" + encodeURIComponent(d[F.patientId]);
    var perms = d.permissions;
    main.textContent = "";
    main.appendChild(el("p", {}, el("a", { href: "/v3/auth/patient/patientList.action",
                                           text: "\u2190 Patients" })));
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
    main.appendChild(el("section", { "aria-label": "Status history" },
                        el("h2", { text: "Status history" }), history));

    var plans = el("section", { "aria-label": "ClinCheck treatment plans" },
                   el("h2", { text: "ClinCheck treatment plans" }));
    var list = d[F.clinCheckPlans];
    if (!list.length) plans.appendChild(el("p", { class: "muted", text: "No ClinCheck plan yet." }));
    list.slice().reverse().forEach(function (plan) {
      plans.appendChild(self.plan(plan, base, perms));
    });
    main.appendChild(plans);

    var thread = el("section", { "aria-label": "Comments" }, el("h2", { text: "Comments" }));
    var comments = d[F.comments];
    var unread = comments.filter(function (c) { return c.unread; }).length;
    if (unread) {
      var mark = el("button", { type: "button", testid: "markRead",
                                text: "Mark " + unread + " as read" });
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
                           text: ROLE_LABELS[c.authorRole] || c.authorRole }),
              document.createTextNode(") \u00b7 "),
              el("time", { testid: "commentDate", datetime: c.createdAt, text: when(c.createdAt) }),
              c.unread ? el("span", { testid: "commentUnread", class: "badge", text: " New" }) : null),
           c.type === "MODIFICATION_REQUEST"
             ? el("div", { class: "muted", text: "Modification request for ClinCheck plan" })
             : null,
           el("p", { testid: "commentBody", text: c.body })),
      );
    });
    if (perms.canComment) {
      var input = el("textarea", { testid: "commentInput", name: "body", maxlength: "4000",
                                   "aria-label": "Add a comment",
                                   placeholder: "Add a comment for the treatment team" });
      var send = el("button", { type: "button", testid: "commentSubmit", text: "Post comment" });
      send.addEventListener("click", function () {
        if (!input.value.trim()) return;
        send.disabled = true;
        self.post(base + "/comments", { body: input.value });
      });
      thread.appendChild(el("div", {}, input, send));
    }
    main.appendChild(thread);
  };

  PatientDetail.prototype.plan = function (plan, base, perms) {
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
      el("h3", {}, el("span", { testid: "planVersion", text: "ClinCheck plan version " + plan.version })),
      el("p", {}, el("span", { testid: "planState", text: plan.state }),
         document.createTextNode(" \u00b7 created "),
         el("time", { testid: "planCreated", datetime: plan.createdAt, text: when(plan.createdAt) })),
      el("p", {}, el("a", { testid: "planViewer", href: plan.viewerUrl, text: "Open in ClinCheck viewer" })),
      files,
    );
    if (!plan.reviewable) return box;
    var planPath = base + "/clincheck/" + encodeURIComponent(plan[F.planId]);
    if (perms.canRequestModification) {
      var instructions = el("textarea", { testid: "modificationInput", name: "instructions",
                                          maxlength: "4000",
                                          "aria-label": "Modification instructions",
                                          placeholder: "Modification instructions for the technician" });
      var request = el("button", { type: "button", testid: "modificationSubmit",
                                   text: "Request modification" });
      request.addEventListener("click", function () {
        if (!instructions.value.trim()) return;
        request.disabled = true;
        self.post(planPath + "/modification", { instructions: instructions.value });
      });
      box.appendChild(el("div", {}, instructions, request));
    }
    if (perms.canApprove) {
      var approve = el("button", { type: "button", testid: "approve", text: "Approve" });
      approve.addEventListener("click", function () {
        approve.disabled = true;
        self.post(planPath + "/approve", {});
      });
      box.appendChild(approve);
    }
    return box;
  };

  customElements.define("ids-patient-list", PatientList);
  customElements.define("ids-patient-detail", PatientDetail);
  window.addEventListener("popstate", function () { window.location.reload(); });
})();

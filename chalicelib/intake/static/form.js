// The "Request an Appointment" form, sent with fetch. Without this script the form still
// works as a plain HTML post. Works the same when the form is copied onto another site:
// it posts to the form's own `action` URL.
(function () {
  "use strict";

  var MESSAGES = {
    sending: "Sending your request…",
    fix: "Please correct the highlighted fields, then send the form again.",
    retry: "We could not save your request just now. What you typed is still here: please wait a few seconds, then press “Send request” to try again.",
    offline: "We could not reach the clinic. Please check your internet connection, then press “Send request” to try again. If your request did get through, sending it again will not create a second one.",
    conflict: "This request was already sent with different details. To send a new request, please reload this page.",
    problem: "Something went wrong on our side. Please try again, or call the clinic.",
    summaryOne: "There is 1 problem with your request",
    summaryMany: "There are {n} problems with your request",
    successTitle: "Thank you – your request has been sent",
    successNext: "The clinic will contact you soon, the way you asked, to arrange a time.",
    successWhen: "The clinic will contact you the way you asked, by {when}, to arrange a time.",
    pageIntro: "Your request has its own page: see where it stands, and tell the clinic if you no longer need it.",
    pageLink: "Open your request’s page",
    reference: "Your reference: "
  };

  var form = document.querySelector("form.appointment-form");
  if (!form || !window.fetch || !window.FormData || !window.URLSearchParams || !window.URL || !window.crypto) {
    return;
  }
  // The page gives these in its own language; a copy of the form on another site keeps the English ones.
  try {
    var given = JSON.parse(form.getAttribute("data-messages") || "{}");
    Object.keys(MESSAGES).forEach(function (name) {
      if (typeof given[name] === "string") {
        MESSAGES[name] = given[name];
      }
    });
  } catch (ignored) { /* the English messages stay */ }
  var button = form.querySelector("button[type=submit]");
  var idempotencyKey = newKey();
  var sending = false;

  // Fields are checked by the service, so that the messages are the same with and without script.
  form.noValidate = true;
  var keyField = form.elements.namedItem("submission_id");
  if (keyField) {
    keyField.value = idempotencyKey;
  }
  // A form copied onto another site has no token of its own: fetch one now, when the page loads,
  // as the service's own page gets one when it is served.
  var tokenField = form.elements.namedItem("form_token");
  // A token lasts FORM_TOKEN_MAX_AGE_HOURS, and one older is kept as possible spam: a tab left open for a day
  // renews its token when it is looked at again, or before sending (then waits out the time trap, MIN_FILL_SECONDS
  // after the new token, so that a person is never taken for a script).
  var tokenMaxAge = Number(form.getAttribute("data-token-max-age") || 86400) * 1000;
  var minFill = Number(form.getAttribute("data-min-fill") || 3) * 1000;
  var tokenIssuedAt = Date.now();
  var RENEW_BEFORE = 10 * 60 * 1000;
  var tokenFetch = tokenField && tokenField.value ? Promise.resolve() : fetchToken();
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") {
      renewIfOld();
    }
  });
  window.addEventListener("focus", renewIfOld);
  window.addEventListener("pageshow", renewIfOld);

  var summary = element("div", "error-summary");
  summary.tabIndex = -1;
  summary.hidden = true;
  var summaryTitle = element("h2");
  var summaryList = element("ul");
  summary.append(summaryTitle, summaryList);
  form.prepend(summary);

  var status = element("p", "form-status");
  status.id = "form-status";
  status.setAttribute("role", "status");
  button.parentNode.append(status);

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!sending) {
      send();
    }
  });

  function tokenIsOld() {
    if (!tokenField || !tokenField.value) {
      return false;
    }
    // Old by this page's clock since it got the token, or by the time the token itself carries (a page restored from
    // a cache runs this script anew with the token it was served with). A clock ahead only renews sooner.
    var limit = tokenMaxAge - RENEW_BEFORE;
    var carried = tokenTime(tokenField.value);
    // A time the service never writes (before 2020: a forged or broken token) says nothing: the server judges it.
    return Date.now() - tokenIssuedAt > limit || (carried > 1577836800000 && Date.now() - carried > limit);
  }

  function tokenTime(token) {
    // A form token begins with the time it was issued: 8 bytes, milliseconds since the epoch (core/signing.py).
    try {
      var bytes = atob(token.slice(0, 12).replace(/-/g, "+").replace(/_/g, "/"));
      var time = 0;
      for (var i = 0; i < 8; i += 1) {
        time = time * 256 + bytes.charCodeAt(i);
      }
      return time;
    } catch (error) {
      return Date.now();
    }
  }

  function renewIfOld() {
    if (!sending && tokenIsOld()) {
      tokenFetch = fetchToken();
    }
  }

  function afterTheTimeTrap() {
    return new Promise(function (resolve) {
      setTimeout(resolve, Math.max(0, tokenIssuedAt + minFill + 250 - Date.now()));
    });
  }

  function fetchToken() {
    return fetch(new URL("form-token", form.action).href, { credentials: "omit", cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : {}; })
      .then(function (answer) {
        if (typeof answer.form_token !== "string") {
          return;
        }
        tokenIssuedAt = Date.now();
        if (answer.max_age_seconds > 0) {
          tokenMaxAge = answer.max_age_seconds * 1000;
        }
        if (answer.min_fill_seconds >= 0) {
          minFill = answer.min_fill_seconds * 1000;
        }
        if (!tokenField) {
          tokenField = element("input");
          tokenField.type = "hidden";
          tokenField.name = "form_token";
          form.append(tokenField);
        }
        tokenField.value = answer.form_token;
      })
      .catch(function () { /* the request goes without a token: it is still stored */ });
  }

  function send() {
    sending = true;
    button.disabled = true;
    clearErrors();
    showStatus(MESSAGES.sending);
    if (tokenIsOld()) {
      tokenFetch = fetchToken().then(afterTheTimeTrap);
    }
    tokenFetch.then(post);
  }

  function post() {
    var headers = { "Accept": "application/json", "Content-Type": "application/json", "Idempotency-Key": idempotencyKey };
    // The answer's message in the page's language, even when the body cannot be read for its language field
    // (a body over 16 KiB): the browser's own Accept-Language may be another.
    var language = form.elements.namedItem("language");
    if (language && /^[A-Za-z-]{1,35}$/.test(language.value)) {
      headers["Accept-Language"] = language.value;
    }
    fetch(form.action, {
      method: "POST",
      body: JSON.stringify(answers()),
      headers: headers,
      credentials: "omit",
      cache: "no-store"
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (answer) {
        handle(response.status, answer || {});
      });
    }, function () {
      done();
      showProblem(MESSAGES.offline);
    });
  }

  // JSON, not URL-encoded: percent-encoding makes each Chinese, Japanese or Korean character
  // 9 bytes, and a long message in those scripts would pass the service's 16 KiB limit.
  function answers() {
    var fields = {};
    new FormData(form).forEach(function (value, name) {
      fields[name] = value;
    });
    form.querySelectorAll("input[type=checkbox]").forEach(function (box) {
      fields[box.name] = box.checked;
    });
    if (fields.preferred_contact !== "text") {
      delete fields.sms_consent;
    }
    delete fields.submission_id;  // sent as the Idempotency-Key header
    return fields;
  }

  function handle(code, answer) {
    if (code === 201) {
      showSuccess(answer);
      return;
    }
    done();
    if (code === 422 && answer.fields) {
      showFieldErrors(answer.fields);
    } else if (code === 503 || code === 429 || code === 502 || code === 504) {
      showProblem(MESSAGES.retry);
    } else if (code === 409) {
      showProblem(MESSAGES.conflict);
    } else {
      showProblem(answer.message || MESSAGES.problem);
    }
  }

  function done() {
    sending = false;
    button.disabled = false;
  }

  function showSuccess(answer) {
    var panel = element("div", "form-success");
    panel.tabIndex = -1;
    var title = element("h2", null, MESSAGES.successTitle);
    var when = dueInWords(answer.due_at);
    var next = element("p", null, when ? MESSAGES.successWhen.replace("{when}", when) : MESSAGES.successNext);
    panel.append(title, next);
    if (answer.id) {
      var ref = element("p", null, MESSAGES.reference);
      ref.append(element("strong", null, answer.id));
      panel.append(ref);
    }
    var page = safePage(answer.page);
    if (page) {
      var intro = element("p", null, MESSAGES.pageIntro + " ");
      var link = element("a", null, MESSAGES.pageLink);
      link.href = page;
      intro.append(link);
      panel.append(intro);
    }
    form.hidden = true;
    form.before(panel);
    panel.focus();
  }

  // When the clinic will get in touch, in the page's language and the clinic's time zone (the form page says
  // which; a copy of the form on another site without it shows the visitor's own clock, with its zone's name).
  function dueInWords(value) {
    var due = typeof value === "string" ? new Date(value) : null;
    if (!due || isNaN(due.getTime()) || !window.Intl) {
      return null;
    }
    var zone = form.getAttribute("data-timezone");
    var options = {weekday: "long", day: "numeric", month: "long", hour: "numeric", minute: "2-digit"};
    if (zone) {
      options.timeZone = zone;
    } else {
      options.timeZoneName = "short";
    }
    try {
      return new Intl.DateTimeFormat(document.documentElement.lang || "en", options).format(due);
    } catch (ignored) {
      return null;
    }
  }

  // Only a link to this service's own patient page: never another scheme or origin, whatever the answer says.
  function safePage(value) {
    try {
      var url = new URL(value, form.action);
      var api = new URL(form.action);
      return url.origin === api.origin && /\/r\/[A-Za-z0-9_-]+$/.test(url.pathname) ? url.href : null;
    } catch (ignored) {
      return null;
    }
  }

  function showFieldErrors(fields) {
    var first = null;
    var names = Object.keys(fields);
    summaryTitle.textContent = names.length === 1
      ? MESSAGES.summaryOne
      : MESSAGES.summaryMany.replace("{n}", names.length);
    names.forEach(function (name) {
      var control = markField(name, fields[name]);
      var item = element("li");
      if (control) {
        var link = element("a", null, fields[name]);
        link.href = "#" + control.id;
        link.addEventListener("click", function (event) {
          event.preventDefault();
          control.focus();
        });
        item.append(link);
        if (!first || (first.compareDocumentPosition(control) & Node.DOCUMENT_POSITION_PRECEDING)) {
          first = control;
        }
      } else {
        item.textContent = fields[name];
      }
      summaryList.append(item);
    });
    summary.hidden = false;
    showStatus(MESSAGES.fix);
    (first || summary).focus();
  }

  // Shows the message next to the field; returns the control to focus, or null.
  function markField(name, message) {
    var wrapper = form.querySelector('[data-field="' + cssEscape(name) + '"]');
    if (!wrapper) {
      return null;
    }
    var error = element("p", "field-error", message);
    error.id = wrapper.getAttribute("data-field") + "-error";
    wrapper.insertBefore(error, wrapper.querySelector(".control"));
    wrapper.classList.add("has-error");
    var controls = wrapper.querySelectorAll("input, select, textarea");
    controls.forEach(function (control) {
      control.setAttribute("aria-invalid", "true");
      var described = (control.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
      control.setAttribute("aria-describedby", [error.id].concat(described).join(" "));
    });
    var checked = wrapper.querySelector("input:checked");
    return (checked && checked.type === "radio") ? checked : controls[0] || null;
  }

  function clearErrors() {
    form.querySelectorAll(".field-error").forEach(function (error) {
      var field = error.parentNode;
      field.classList.remove("has-error");
      field.querySelectorAll("[aria-invalid]").forEach(function (control) {
        control.removeAttribute("aria-invalid");
        var rest = control.getAttribute("aria-describedby").split(" ").filter(function (id) {
          return id && id !== error.id;
        });
        if (rest.length) {
          control.setAttribute("aria-describedby", rest.join(" "));
        } else {
          control.removeAttribute("aria-describedby");
        }
      });
      error.remove();
    });
    summary.hidden = true;
    summaryList.textContent = "";
  }

  function showStatus(text) {
    status.className = "form-status";
    status.textContent = text;
  }

  // The button lost focus while it was disabled: give it back, so that Enter tries again.
  function showProblem(text) {
    status.className = "form-status is-problem";
    status.textContent = text;
    button.focus();
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text) {
      node.textContent = text;
    }
    return node;
  }

  function cssEscape(value) {
    return window.CSS && CSS.escape ? CSS.escape(value) : String(value).replace(/[^A-Za-z0-9_-]/g, "");
  }

  // 24 random bytes, base64url: 32 characters of A-Z a-z 0-9 _ -, as the service asks for.
  function newKey() {
    var bytes = new Uint8Array(24);
    crypto.getRandomValues(bytes);
    var text = "";
    bytes.forEach(function (b) { text += String.fromCharCode(b); });
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
})();

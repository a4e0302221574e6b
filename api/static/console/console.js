// The admin console: GraphiQL on this service's /graphql. The console's session cookie goes
// with each request (same origin only); the server accepts it only on JSON POSTs.
(function () {
  "use strict";

  var container = document.getElementById("graphiql");
  var url = container.getAttribute("data-graphql-url");

  function fetcher(params, options) {
    var headers = { "Content-Type": "application/json", Accept: "application/json" };
    var typed = (options && options.headers) || {};
    Object.keys(typed).forEach(function (name) {
      headers[name] = typed[name];
    });
    return fetch(url, {
      method: "POST",
      headers: headers,
      body: JSON.stringify(params),
      credentials: "same-origin",
    }).then(function (response) {
      return response.text().then(function (text) {
        try {
          return JSON.parse(text);
        } catch (error) {
          // An answer that is not JSON (a proxy in front refusing the request) is shown as text.
          return { errors: [{ message: response.status + " " + (text || response.statusText) }] };
        }
      });
    });
  }

  // GraphiQL's editors (CodeMirror) type into textareas that have no name, and scroll in boxes
  // the keyboard cannot reach: name each textarea after its pane, and let Tab reach the boxes.
  // Panes appear as GraphiQL renders them, hence the observer.
  var TOOLS = ["Variables", "Headers"];

  function paneName(textarea) {
    if (textarea.closest(".graphiql-query-editor")) {
      return "Query";
    }
    if (textarea.closest(".graphiql-response")) {
      return "Response";
    }
    var tool = textarea.closest(".graphiql-editor-tool");
    if (tool) {
      var editors = Array.prototype.slice.call(tool.querySelectorAll(".graphiql-editor"));
      var index = editors.indexOf(textarea.closest(".graphiql-editor"));
      return TOOLS[index] || "Editor";
    }
    return "Editor";
  }

  function makeAccessible() {
    container.querySelectorAll(".CodeMirror textarea:not([aria-label])").forEach(function (box) {
      box.setAttribute("aria-label", paneName(box));
    });
    container.querySelectorAll(".CodeMirror-scroll[tabindex='-1']").forEach(function (box) {
      box.setAttribute("tabindex", "0");
    });
  }

  new MutationObserver(makeAccessible).observe(container, { childList: true, subtree: true });

  // GraphiQL keeps its tabs (queries, variables: a signIn's password, a token in an answer)
  // and its history in storage. Keep them in this tab's sessionStorage, never localStorage
  // (which outlives signing out and closing the browser), and forget them on signing out, or
  // when the console opens for someone else than the one who left them.
  var PREFIX = "graphiql:";
  var OWNER = "invitations.console.owner";

  function graphiqlKeys(area) {
    var keys = [];
    for (var index = 0; index < area.length; index += 1) {
      var key = area.key(index);
      if (key !== null && key.indexOf(PREFIX) === 0) {
        keys.push(key);
      }
    }
    return keys;
  }

  function forget(area) {
    try {
      graphiqlKeys(area).forEach(function (key) {
        area.removeItem(key);
      });
    } catch (error) {
      // Storage turned off: nothing was kept.
    }
  }

  var kept = null;
  var signingOut = false;
  try {
    kept = window.sessionStorage;
  } catch (error) {
    kept = null; // Storage turned off: GraphiQL keeps nothing (null storage).
  }
  forget(window.localStorage); // what earlier releases left behind
  var owner = container.getAttribute("data-admin") || "";
  if (kept !== null) {
    try {
      if (kept.getItem(OWNER) !== owner) {
        forget(kept);
        kept.setItem(OWNER, owner);
      }
    } catch (error) {
      kept = null;
    }
  }
  var storage =
    kept === null
      ? null
      : {
          getItem: function (key) {
            return kept.getItem(key);
          },
          setItem: function (key, value) {
            // GraphiQL writes a tab's text a moment after each change: once signing out has
            // forgotten everything, a write still on its way keeps nothing.
            if (!signingOut) {
              kept.setItem(key, value);
            }
          },
          removeItem: function (key) {
            kept.removeItem(key);
          },
          get length() {
            return graphiqlKeys(kept).length;
          },
          clear: function () {
            forget(kept);
          },
        };

  var signOut = document.getElementById("sign-out");
  if (signOut && signOut.form) {
    signOut.form.addEventListener("submit", function () {
      signingOut = true;
      if (kept !== null) {
        forget(kept);
        kept.removeItem(OWNER);
      }
    });
  }

  ReactDOM.createRoot(container).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultEditorToolsVisibility: true,
      inputValueDeprecation: true,
      isHeadersEditorEnabled: true,
      storage: storage,
      // Headers may hold a bearer token: keep them out of storage altogether.
      shouldPersistHeaders: false,
    })
  );
})();

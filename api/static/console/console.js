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
          // Refusals before GraphQL runs (too large, bad request) come as plain text.
          return { errors: [{ message: response.status + " " + (text || response.statusText) }] };
        }
      });
    });
  }

  ReactDOM.createRoot(container).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultEditorToolsVisibility: true,
      inputValueDeprecation: true,
      isHeadersEditorEnabled: true,
      // Headers may hold a bearer token: keep them out of localStorage.
      shouldPersistHeaders: false,
    })
  );
})();

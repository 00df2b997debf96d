// The API-key / bearer-token form every page of the service shares (/dashboard, /deliveries), served at
// /assets/credentials.js. With authentication on, a page's first call answers 401: the form asks for a
// key or a token (a JWT: three dot-separated parts), keeps it in this tab's sessionStorage only (never
// localStorage, never the URL: it is forgotten when the tab closes) and sends it in the header the service
// reads (X-API-Key or Authorization: Bearer). A refused key (401) or one without the scope (403) is dropped
// and the form asks again, saying why.
export class AuthError extends Error {}

const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

function element(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

/**
 * Wires the page's `<form id="credentials" hidden>` (filled here) and its `#forget` button.
 * `storage`: the sessionStorage key; `scope`: the scope the page's calls need; `purpose`: what that scope
 * allows, in a sentence's words ("lire les indicateurs"); `onKey`: called when a key was entered.
 */
export function keyForm({ storage, scope, purpose, onKey }) {
  const form = document.getElementById("credentials");
  const forget = document.getElementById("forget");
  const why = element("p", { id: "credentials-why", role: "alert" });
  const secret = element("input", { type: "password", id: "secret", name: "secret", required: "", autocomplete: "off", spellcheck: "false" });
  form.setAttribute("autocomplete", "off");
  form.replaceChildren(
    why,
    element("div", { class: "row" },
      element("label", { for: "secret" }, `Clé d'API ou jeton d'accès (portée ${scope})`, secret),
      element("button", { type: "submit" }, "Se connecter")),
    element("p", { class: "hint" }, "La clé reste dans cet onglet (stockage de session) : elle est oubliée à sa fermeture et n'est envoyée qu'à ce service."),
  );
  const credential = () => sessionStorage.getItem(storage);

  function headers() {
    const key = credential();
    if (!key) return {};
    return JWT.test(key) ? { authorization: "Bearer " + key } : { "x-api-key": key };
  }

  /** fetch with the key; 401 and 403 drop it and throw an AuthError that says what to do. */
  async function call(path, { method = "GET", accept = "application/json" } = {}) {
    const response = await fetch(path, { method, headers: { accept, ...headers() } });
    if (response.status === 401 || response.status === 403) {
      const sent = credential() !== null;
      sessionStorage.removeItem(storage);
      if (response.status === 403) throw new AuthError(`Votre clé est reconnue mais ne permet pas de ${purpose} (portée ${scope} requise) : demandez cette portée à l'administrateur du service ou saisissez une autre clé.`);
      throw new AuthError(sent
        ? "La clé ou le jeton saisi n'est pas accepté (inconnu, expiré ou mal copié) : saisissez-en un valide."
        : `Ce service demande une authentification : collez une clé d'API ou un jeton d'accès ayant la portée ${scope}.`);
    }
    return response;
  }

  function ask(message) {
    why.textContent = message;
    form.hidden = false;
    forget.hidden = true;
    secret.value = "";
    secret.focus();
  }

  /** The page got its data: no form, and "Oublier ma clé" when a key is kept. */
  function accepted() {
    form.hidden = true;
    forget.hidden = credential() === null;
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const key = secret.value.trim().replace(/^Bearer\s+/i, "");
    secret.value = "";
    if (!key) return;
    sessionStorage.setItem(storage, key);
    onKey();
  });
  forget.addEventListener("click", () => {
    sessionStorage.removeItem(storage);
    location.reload();
  });
  return { call, ask, accepted, hasKey: () => credential() !== null };
}

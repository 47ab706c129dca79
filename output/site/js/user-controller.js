// Sign in, sign out, the user's profile and calls to the API, with auth0-spa-js (Universal
// Login, redirect + PKCE). stackgen wrote this file once; it is yours.
(async function () {
  const config = window.appConfig;
  const $ = (id) => document.getElementById(id);
  const show = (id, visible) => $(id).classList.toggle('d-none', !visible);
  const showError = (message) => {
    $('error').textContent = message;
    show('error', Boolean(message));
  };

  let client;
  try {
    client = await auth0.createAuth0Client({
      domain: config.auth0.domain,
      clientId: config.auth0.clientId,
      authorizationParams: {
        audience: config.auth0.audience,
        redirect_uri: window.location.origin + '/',
      },
    });
  } catch (error) {
    document.body.dataset.authState = 'out';
    showError('Sign-in is not available: ' + error.message);
    return;
  }

  // Back from the sign-in page: finish the login, then drop code and state from the URL.
  const query = new URLSearchParams(window.location.search);
  if (query.has('code') && query.has('state')) {
    try {
      await client.handleRedirectCallback();
    } catch (error) {
      showError('Sign-in failed: ' + error.message);
    }
    window.history.replaceState({}, document.title, window.location.pathname);
  }

  $('btn-login').addEventListener('click', () => client.loginWithRedirect());
  $('btn-logout').addEventListener('click', () =>
    client.logout({ logoutParams: { returnTo: window.location.origin + '/' } }),
  );
  $('btn-call-api').addEventListener('click', callApi);
  await render();

  async function render() {
    const signedIn = await client.isAuthenticated();
    if (signedIn) {
      const user = await client.getUser();
      $('profile-name').textContent = user.name || user.email || user.sub;
      if (user.picture) {
        $('profile-picture').src = user.picture;
      }
    }
    show('btn-login', !signedIn);
    show('signed-out-text', !signedIn);
    show('btn-logout', signedIn);
    show('profile', signedIn);
    show('api-card', signedIn);
    document.body.dataset.authState = signedIn ? 'in' : 'out';
  }

  async function callApi() {
    const out = $('api-result');
    if (!config.apiUrl) {
      out.textContent = 'No API URL yet: `gen deploy` writes it into js/config.js.';
      return;
    }
    out.textContent = 'Calling…';
    try {
      const token = await client.getTokenSilently();
      const response = await fetch(config.apiUrl + '/user-profile', {
        headers: { Authorization: 'Bearer ' + token },
      });
      const text = await response.text();
      out.textContent = response.ok
        ? JSON.stringify(JSON.parse(text), null, 2)
        : 'HTTP ' + response.status + '\n' + text;
    } catch (error) {
      out.textContent = 'Error: ' + error.message;
    }
  }
})();

// The test application's script (WebAppBackend): tries each kind of request a single-page
// application makes, with URLs relative to the page, and writes what worked into the page.
const results = {};
const PARTS = 6;

function report(name, outcome) {
  results[name] = outcome;
  document.getElementById('results').textContent =
      Object.keys(results).sort().map(key => key + ':' + results[key]).join(' ');
  if (Object.keys(results).length === PARTS) {
    document.getElementById('state').textContent = 'done';
  }
}

function check(name, work) {
  work().then(outcome => report(name, outcome), error => report(name, 'failed(' + error + ')'));
}

check('css', async () => {
  const color = getComputedStyle(document.getElementById('styled')).color;
  return color === 'rgb(0, 128, 0)' ? 'ok' : 'failed(' + color + ')';
});

check('images', () => Promise.all(Array.from(document.querySelectorAll('img.tile'), image =>
    image.complete ? Promise.resolve(image.naturalWidth > 0)
        : new Promise(resolve => {
          image.onload = () => resolve(true);
          image.onerror = () => resolve(false);
        })))
    .then(loaded => loaded.every(Boolean) ? 'ok' : 'failed(' + loaded.filter(x => !x).length + ' missing)'));

check('cookie', async () => {
  const answer = await (await fetch('api/whoami', {credentials: 'same-origin'})).json();
  return answer.cookie.includes('sid=drawbridge-42') ? 'ok' : 'failed(' + answer.cookie + ')';
});

check('post', async () => {
  const sent = {note: 'über', list: [1, 2, 3]};
  const response = await fetch('api/echo', {
    method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(sent)});
  const answer = await response.json();
  return JSON.stringify(answer) === JSON.stringify(sent) ? 'ok' : 'failed(' + JSON.stringify(answer) + ')';
});

check('sse', () => new Promise(resolve => {
  const events = [];
  const source = new EventSource('events');
  source.onmessage = event => {
    events.push(event.data);
    if (events.length === 3) {
      source.close();
      resolve(events.join(',') === 'one,two,three' ? 'ok' : 'failed(' + events + ')');
    }
  };
  source.onerror = () => {
    if (events.length < 3) {
      source.close();
      resolve('failed(error after ' + events.length + ' events)');
    }
  };
}));

check('ws', () => new Promise(resolve => {
  const url = new URL('ws', location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const socket = new WebSocket(url);
  const large = 'x'.repeat(200 * 1024);
  const expected = ['hello', large, 'bye'];
  let received = 0;
  socket.onopen = () => expected.forEach(message => socket.send(message));
  socket.onmessage = event => {
    if (event.data !== expected[received]) {
      resolve('failed(message ' + received + ' came back as ' + String(event.data).length + ' characters)');
      socket.close();
      return;
    }
    received++;
    if (received === expected.length) {
      // Only the extensions' names: their parameters are the two ends' business.
      const names = socket.extensions.split(',').map(extension => extension.split(';')[0].trim());
      socket.close(1000);
      resolve('ok(' + (names.join(',') || 'no extensions') + ')');
    }
  };
  socket.onerror = () => resolve('failed(error after ' + received + ' echoes)');
}));

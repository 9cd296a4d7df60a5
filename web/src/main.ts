// The senseact web app: live panels from the robot's rosbridge (roslib in the
// browser), the recording session from the `senseact ui` server, teleop from
// keyboard, buttons and gamepad.
import { UiConfig } from '../../teleop/api.ts';
import { CameraPanel, renderDiagnostics, renderHealth, SmellPanel, TactilePanel, type CompressedImage, type MultiArray } from './panels.ts';
import { RosLink } from './ros.ts';
import { SessionLink } from './session.ts';
import { BrowserTeleop } from './teleop.ts';
import type { JointStateMsg, Scene3D } from './scene3d.ts';

const $ = (id: string) => document.getElementById(id)!;

function badge(id: string, state: string, text: string, title?: string): void {
  const el = $(id);
  el.dataset.state = state;
  el.textContent = text;
  if (title) el.title = title;
}

async function main(): Promise<void> {
  const config = UiConfig.parse(await (await fetch('./api/config')).json());
  $('task-label').textContent = `task ${config.task} · ${config.robot_url}`;

  // ---------------------------------------------------------------- robot (rosbridge)
  const link = new RosLink(config.robot_url);
  link.onState((state, detail) => badge('conn-robot', state, `robot: ${state}`, detail));
  const camera = new CameraPanel();
  const left = new TactilePanel('left');
  const right = new TactilePanel('right');
  const smell = new SmellPanel();
  link.subscribe<CompressedImage>('/camera/color/image_raw/compressed', 'sensor_msgs/CompressedImage', (m) => camera.update(m));
  link.subscribe<MultiArray>('/tactile/left', 'std_msgs/Float32MultiArray', (m) => left.update(m), 50);
  link.subscribe<MultiArray>('/tactile/right', 'std_msgs/Float32MultiArray', (m) => right.update(m), 50);
  link.subscribe<MultiArray>('/e_nose/raw', 'std_msgs/Float32MultiArray', (m) => smell.update(m));
  link.subscribe<{ status?: [] }>('/senseact/health', 'diagnostic_msgs/DiagnosticArray', (m) => renderDiagnostics(m));

  // ---------------------------------------------------------------- 3D view (lazy)
  let scene: Scene3D | null = null;
  let joints: JointStateMsg | null = null;
  link.subscribe<JointStateMsg>('/joint_states', 'sensor_msgs/JointState', (m) => {
    joints = m;
    scene?.setJoints(m);
  }, 33);
  const note = $('scene-note');
  let backend = '';
  const describe = (seed: number | null) => {
    note.textContent = `${backend}; robot from /joint_states; ` + (seed === null ? 'task objects appear once an episode starts here (the robot does not report its seed)' : `objects as placed at reset (seed ${seed})`);
  };
  import('./scene3d.ts')
    .then(async ({ Scene3D }) => {
      const created = await Scene3D.create($('scene') as HTMLCanvasElement);
      backend = created.backend;
      const seed = session.status?.scene_seed ?? null;
      await created.scene.show(config.task, seed);
      scene = created.scene;
      if (joints) scene.setJoints(joints);
      describe(seed);
    })
    .catch((err: Error) => {
      note.textContent = `3D view unavailable: ${err.message}`;
    });

  // ---------------------------------------------------------------- session (ui server)
  const session = new SessionLink(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${location.pathname.replace(/[^/]*$/, '')}api/session`);
  session.onState = (s) => badge('conn-session', s, `session: ${s}`);
  session.onProtocolError = (m) => addEvent('error', m);
  session.onStatus = (st) => {
    renderHealth(st);
    const c = st.connection;
    badge('conn-server', c.state, `recorder: ${c.state}`, c.detail);
    const rec = st.state === 'recording';
    badge('rec-state', rec ? 'recording' : st.state, rec ? `● REC #${st.episode} ${st.recording_s.toFixed(1)} s` : st.state === 'idle' ? `idle · next #${st.episode}` : st.state);
    $('episode-info').textContent = `${st.out_dir} · ${st.episodes_in_dataset} in dataset · ${st.saved.length} saved, ${st.discarded} discarded this session`;
    ($('gripper-meter') as HTMLMeterElement).value = st.command.gripper;
    for (const b of document.querySelectorAll<HTMLButtonElement>('.episode-buttons button')) {
      const a = b.dataset.action;
      b.disabled = a === 'start' ? st.state !== 'idle' : a === 'rerecord' ? st.state !== 'idle' && st.state !== 'recording' : st.state !== 'recording';
    }
    $('saved-list').innerHTML = st.saved
      .slice(-20)
      .map((e) => `<li value="${e.index}">${e.success ? '✓' : '✗'} ${e.file.split('/').pop()} — ${e.duration_s.toFixed(1)} s, ${e.messages} msgs</li>`)
      .join('');
    if (scene && st.scene_seed !== null) {
      const seed = st.scene_seed;
      void scene.show(st.task, seed).then(() => describe(seed));
    }
  };
  session.onEvent = (e) => addEvent(e.level, e.message);

  function addEvent(level: string, message: string): void {
    const li = document.createElement('li');
    li.dataset.level = level;
    li.textContent = `${new Date().toLocaleTimeString()} ${message}`;
    const list = $('events');
    list.prepend(li);
    while (list.children.length > 50) list.lastChild!.remove();
  }

  const runEpisode = async (action: 'start' | 'save_success' | 'save_failure' | 'discard' | 'rerecord') => {
    const r = await session.episode(action);
    $('episode-result').textContent = `${action.replace('_', ' ')}: ${r.message}`;
    $('episode-result').dataset.ok = String(r.ok);
  };
  for (const b of document.querySelectorAll<HTMLButtonElement>('.episode-buttons button')) {
    b.addEventListener('click', () => void runEpisode(b.dataset.action as Parameters<typeof runEpisode>[0]));
  }
  const teleop = new BrowserTeleop(session, config);
  teleop.onEpisode = (a) => void runEpisode(a);
  const k = config.keys;
  const names = (l: string[] | undefined) => (l ?? []).map((x) => (x === ' ' ? 'space' : x)).join('/');
  $('keys-help').textContent =
    `keys (hold to move): ${names(k.forward)} ${names(k.back)} ${names(k.left)} ${names(k.right)}, ${names(k.up)}/${names(k.down)} up/down, ${names(k.yaw_left)}/${names(k.yaw_right)} yaw; ` +
    `${names(k.gripper_close)}/${names(k.gripper_open)} close/open, ${names(k.gripper_toggle)} toggle; episode: ${names(k.start)} start, ${names(k.save_success)} ✓, ${names(k.save_failure)} ✗, ${names(k.discard)} discard, ${names(k.rerecord)} re-record`;
}

main().catch((err: Error) => {
  document.body.insertAdjacentHTML('afterbegin', `<p style="color:#c53030;padding:8px">senseact ui failed to start: ${err.message}</p>`);
});

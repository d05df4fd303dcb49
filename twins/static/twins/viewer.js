// SolarHub twin viewer: loads the twin's GLB (same origin, session cookie), draws the objects
// that share one mesh (the panels) as one InstancedMesh each, orbit controls, legend counts.
import * as THREE from 'three';
import { GLTFLoader } from 'three/addons/loaders/GLTFLoader.js';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';

const url = document.getElementById('viewer-script').dataset.glbUrl;
const status = document.getElementById('status');
const container = document.getElementById('scene');

const renderer = new THREE.WebGLRenderer({ antialias: true, preserveDrawingBuffer: true });
renderer.setPixelRatio(window.devicePixelRatio);
renderer.setSize(window.innerWidth, window.innerHeight);
container.appendChild(renderer.domElement);

const scene = new THREE.Scene();
scene.background = new THREE.Color('#dfe9f3');
scene.add(new THREE.AmbientLight(0xffffff, 0.7));
const sun = new THREE.DirectionalLight(0xfff6e0, 1.6);
scene.add(sun);
const camera = new THREE.PerspectiveCamera(50, window.innerWidth / window.innerHeight, 0.1, 100000);
const controls = new OrbitControls(camera, renderer.domElement);

function instance(root) {
  // GLTFLoader clones one mesh per node, sharing its geometry: one InstancedMesh per geometry.
  const groups = new Map();
  root.updateMatrixWorld(true);
  root.traverse((node) => {
    if (node.isMesh) {
      const key = node.geometry.uuid;
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(node);
    }
  });
  const counts = {};
  let instanced = 0;
  for (const meshes of groups.values()) {
    for (const mesh of meshes) {
      const type = (mesh.userData && mesh.userData.type) || (mesh.parent && mesh.parent.userData.type) || 'other';
      counts[type] = (counts[type] || 0) + 1;
    }
    if (meshes.length < 2) continue;
    const first = meshes[0];
    const many = new THREE.InstancedMesh(first.geometry, first.material, meshes.length);
    many.userData.instances = [];
    meshes.forEach((mesh, i) => {
      many.setMatrixAt(i, mesh.matrixWorld);
      many.userData.instances.push(mesh.userData);
      mesh.removeFromParent();
    });
    many.instanceMatrix.needsUpdate = true;
    many.computeBoundingSphere();
    root.add(many);
    instanced += meshes.length;
  }
  return { counts, instanced };
}

function frame(root) {
  const box = new THREE.Box3().setFromObject(root);
  const size = box.getSize(new THREE.Vector3());
  const centre = box.getCenter(new THREE.Vector3());
  const radius = Math.max(size.x, size.z, 1);
  camera.position.set(centre.x + radius * 0.6, centre.y + radius * 0.5, centre.z + radius * 0.6);
  camera.near = radius / 1000;
  camera.far = radius * 20;
  camera.updateProjectionMatrix();
  controls.target.copy(centre);
  controls.update();
  sun.position.set(centre.x + radius * 0.3, radius, centre.z + radius * 0.4);
}

function render() {
  renderer.render(scene, camera);
}

window.addEventListener('resize', () => {
  camera.aspect = window.innerWidth / window.innerHeight;
  camera.updateProjectionMatrix();
  renderer.setSize(window.innerWidth, window.innerHeight);
  render();
});
controls.addEventListener('change', render);

async function load() {
  const response = await fetch(url, { credentials: 'same-origin' });
  if (!response.ok) throw new Error(`The twin could not be loaded (HTTP ${response.status}).`);
  const buffer = await response.arrayBuffer();
  const gltf = await new GLTFLoader().parseAsync(buffer, '');
  const root = gltf.scene;
  const { counts, instanced } = instance(root);
  scene.add(root);
  frame(root);
  render();
  const labels = { solar_panel: 'Solar panel', inverter: 'Inverter', string_box: 'String box',
    structure: 'Structure (obstacle)', ground: 'Ground' };
  for (const [type, count] of Object.entries(counts)) {
    const cell = document.querySelector(`.count[data-label="${labels[type] || type}"]`);
    if (cell) cell.textContent = `(${count})`;
  }
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  status.textContent = `${total} objects, ${instanced} drawn instanced.`;
  window.twinViewer = { ready: true, objects: total, instanced, counts };
  document.body.dataset.state = 'ready';
}

load().catch((error) => {
  status.textContent = error.message;
  document.body.dataset.state = 'error';
  window.twinViewer = { ready: false, error: error.message };
});

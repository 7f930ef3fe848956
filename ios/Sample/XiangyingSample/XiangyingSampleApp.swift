// A tiny SwiftUI sample: enrol with a sync server using a code from its administrator, start
// the sync engine with its iOS wiring (NWPathMonitor, scene phase, BGAppRefreshTask), show the
// engine's state with the outbox and upload counts and the last success, pick a category from
// the catalogue, report a problem with a photo, watch the inbox refresh, and sync by hand with
// progress, and walk a patrol whose track PatrolRecorder.swift records with the screen off. Add
// both files to an Xcode iOS 17 app target that depends on the Xiangying package, with
// `cn.xiangying.sample.refresh` under BGTaskSchedulerPermittedIdentifiers in its Info.plist,
// NSLocationWhenInUseUsageDescription, and the "Background fetch" and "Location updates"
// background modes on (see ../../README.md). Checked for syntax here, not compiled.
import PhotosUI
import SwiftUI
import Xiangying

/// The process's one store, shared by the screens and the background refresh.
let storeHolder = StoreHolder(
    dir: FileManager.default.urls(for: .applicationSupportDirectory, in: .userDomainMask)[0]
        .appendingPathComponent("xiangying", isDirectory: true),
    appVersion: Bundle.main.infoDictionary?["CFBundleShortVersionString"] as? String ?? "dev"
)

/// The background refresh: one sync when iOS grants the app a moment in the background.
let refresh = BackgroundRefresh(identifier: "cn.xiangying.sample.refresh") {
    try await storeHolder.store()
}

@main
struct XiangyingSampleApp: App {
    @Environment(\.scenePhase) private var scenePhase
    @StateObject private var model = Model()

    init() {
        // Before launch finishes, or iOS never hands the app its refresh task.
        refresh.register()
    }

    var body: some Scene {
        WindowGroup { ContentView(model: model) }
            .onChange(of: scenePhase) { _, phase in model.scenePhaseChanged(phase) }
    }
}

@MainActor
final class Model: ObservableObject {
    @Published var inbox: [CaseSummary] = []
    @Published var categories: [Category] = []
    @Published var status = "打开中…"
    @Published var enrolled = false
    @Published var syncing: SyncReport?
    /// The engine's state as the screen shows it; nil until the engine runs.
    @Published var sync: SyncDisplay?
    /// My patrol under way, if any, refreshed after every change.
    @Published var patrol: PatrolSummary?
    /// The patrol whose fixes are being recorded in this process, or nil.
    @Published var recording: String?
    private let recorder = PatrolRecorder()
    private(set) var store: Xiangying?
    private var engine: SyncEngine?
    private var network: NetworkWatcher?
    private var foreground: ForegroundSync?
    private var lastPhase: ScenePhase = .active

    func start() async {
        do {
            let store = try await storeHolder.store()
            self.store = store
            enrolled = try await store.me() != nil
            if enrolled {
                categories = try await store.categories()
                startEngine(store)
            }
            status = enrolled ? "已就绪" : "请输入服务器地址和注册码"
            for try await list in store.inboxUpdates() {
                inbox = list
            }
        } catch ApiError.NotSetUp {
            status = "请输入服务器地址和注册码"
        } catch {
            status = "\(error)"
        }
    }

    func enrol(url: String, code: String) async {
        guard let store else { return }
        do {
            let me = try await store.enrol(serverUrl: url, code: code, deviceName: UIDevice.current.name)
            categories = try await store.categories()
            enrolled = true
            status = "已注册：\(me.person)"
            startEngine(store)
            for try await list in store.inboxUpdates() {
                inbox = list
            }
        } catch ApiError.Unauthorised {
            status = "注册码无效或已使用"
        } catch ApiError.Network(let detail) {
            status = "无法连接服务器：\(detail)"
        } catch {
            status = "\(error)"
        }
    }

    /// Starts the engine once, wires it, and follows its status.
    private func startEngine(_ store: Xiangying) {
        guard engine == nil else { return }
        do {
            let engine = try store.startSyncEngine()
            self.engine = engine
            let network = NetworkWatcher(engine: engine)
            network.start()
            self.network = network
            let foreground = ForegroundSync(engine: engine, refresh: refresh)
            foreground.scenePhaseChanged(lastPhase)
            self.foreground = foreground
            sync = engine.status.display
            Task { [weak self] in
                for await s in engine.statusUpdates() {
                    self?.sync = s.display
                }
            }
            // Each batch of fixes names the patrol: follow it for the patrol section.
            Task { [weak self] in
                let first = try? await store.activePatrol()
                self?.patrol = first
                for await _ in store.changes() {
                    let now = try? await store.activePatrol()
                    self?.patrol = now
                }
            }
        } catch {
            status = "\(error)"
        }
    }

    func scenePhaseChanged(_ phase: ScenePhase) {
        lastPhase = phase
        foreground?.scenePhaseChanged(phase)
    }

    func syncSoon() {
        engine?.syncSoon()
    }

    /// Stops the sync in flight between two steps; what it did stays, the engine carries on.
    func cancelSync() {
        engine?.cancelSync()
    }

    /// Starts a patrol on my grid or segment, or resumes recording the one still under way
    /// (after the app was killed), and records its track.
    func startPatrol() async {
        guard let store else { return }
        do {
            if let current = try await store.activePatrol() {
                recorder.start(store: store, patrolId: current.id, startedAtMs: current.startedAtMs)
                recording = recorder.recording
                return
            }
            let place: PatrolPlace
            switch try await store.me()?.scope {
            case .some(.grid(let id)): place = .grid(id: id)
            case .some(.segment(let id)): place = .segment(id: id)
            default:
                status = "只有网格员和街长可以巡查"
                return
            }
            let id = try await store.startPatrol(place)
            let startedAtMs = try await store.patrol(id).startedAtMs
            recorder.start(store: store, patrolId: id, startedAtMs: startedAtMs)
            recording = recorder.recording
            status = "巡查已开始"
        } catch {
            status = "\(error)"
        }
    }

    /// Records the last fixes, then ends the patrol.
    func endPatrol() async {
        guard let store, let patrol else { return }
        await recorder.stop()
        recording = nil
        do {
            _ = try await store.endPatrol(patrol.id)
            status = "巡查已结束"
        } catch {
            status = "\(error)"
        }
    }

    func report(_ text: String, category: String, photo: Data?) async {
        guard let store else { return }
        do {
            _ = try await store.reportWithPhotos(category: category, location: GeoPoint(lon: 0.05, lat: 0.05, datum: .wgs84),
                                                 description: text,
                                                 photos: photo.map { [CameraPhoto(bytes: $0, capture: nil)] } ?? [])
            status = "已上报"
        } catch ApiError.InvalidInput(let field, let problem) {
            status = "\(field): \(problem)"
        } catch ApiError.PhotoRejected(let reason, _) {
            status = "照片无法使用：\(reason)"
        } catch {
            status = "\(error)"
        }
    }

    func sync() async {
        guard let store else { return }
        do {
            let report = try await store.syncNow { step in
                Task { @MainActor in self.syncing = step }
            }
            syncing = nil
            status = "已同步：上传 \(report.pushed)，下载 \(report.pulled)，照片 \(report.photosUploaded)"
        } catch ApiError.Network {
            syncing = nil
            status = "网络不可用，稍后再试；数据已保存在本机"
        } catch ApiError.Unauthorised {
            syncing = nil
            enrolled = false
            status = "本机已被停用，请重新注册"
        } catch {
            syncing = nil
            status = "\(error)"
        }
    }
}

/// The engine's state (空闲, 同步中, 离线, 等待重试 (code), 需要升级), the queues and the last success.
struct SyncSection: View {
    let display: SyncDisplay
    let syncSoon: () -> Void
    let cancel: () -> Void

    var body: some View {
        Section("同步") {
            HStack {
                Text(display.label).font(.headline)
                Spacer()
                if display.activity == .syncing {
                    Button("取消", action: cancel)
                } else {
                    Button("立即同步", action: syncSoon)
                }
            }
            if let detail = display.detail {
                Text(detail).font(.caption)
            }
            Text("待上传 \(display.outbox) · 待传照片 \(display.uploads)")
            Text(display.lastSuccessText())
        }
    }
}

/// My patrol: start it, see its fixes and distance grow, end it; resume recording after a kill.
struct PatrolSection: View {
    let patrol: PatrolSummary?
    let recording: Bool
    let start: () -> Void
    let end: () -> Void

    var body: some View {
        Section("巡查") {
            if let patrol {
                Text(recording ? "巡查中" : "巡查未结束（未在记录）").font(.headline)
                Text("\(patrol.points) 个定位点 · \(Int(patrol.distanceM)) 米")
                if !recording {
                    Button("继续记录", action: start)
                }
                Button("结束巡查", role: .destructive, action: end)
            } else {
                Button("开始巡查", action: start)
            }
        }
    }
}

struct ContentView: View {
    @ObservedObject var model: Model
    @State private var text = ""
    @State private var category = "020101"
    @State private var url = "https://"
    @State private var code = ""
    @State private var picked: PhotosPickerItem?
    @State private var photo: Data?

    var body: some View {
        NavigationStack {
            List {
                if !model.enrolled {
                    Section("注册") {
                        TextField("服务器地址", text: $url)
                        TextField("注册码", text: $code)
                        Button("注册") { Task { await model.enrol(url: url, code: code) } }
                    }
                }
                if let display = model.sync {
                    SyncSection(display: display, syncSoon: { model.syncSoon() }, cancel: { model.cancelSync() })
                }
                if model.enrolled {
                    PatrolSection(patrol: model.patrol, recording: model.recording != nil && model.recording == model.patrol?.id,
                                  start: { Task { await model.startPatrol() } },
                                  end: { Task { await model.endPatrol() } })
                }
                Section("上报问题") {
                    Picker("类别", selection: $category) {
                        ForEach(model.categories, id: \.code) { c in
                            Text("\(c.bigName) / \(c.name)").tag(c.code)
                        }
                    }
                    TextField("几句话说明问题", text: $text)
                    PhotosPicker(photo == nil ? "加一张照片" : "已选照片", selection: $picked, matching: .images)
                    Button("上报") {
                        Task {
                            await model.report(text, category: category, photo: photo)
                            text = ""
                            photo = nil
                        }
                    }
                }
                Section("待办 (\(model.inbox.count))") {
                    ForEach(model.inbox, id: \.id) { c in
                        VStack(alignment: .leading) {
                            Text(c.number ?? "未编号").font(.caption)
                            Text(c.categoryName).font(.headline)
                            Text(c.description).font(.subheadline)
                        }
                    }
                }
            }
            .navigationTitle("响应")
            .toolbar {
                Button(model.syncing == nil ? "同步" : "同步中…") { Task { await model.sync() } }
                    .disabled(model.syncing != nil || !model.enrolled)
            }
            .onChange(of: picked) { _, item in
                Task {
                    // A JPEG for the core: HEIC photos are converted here, not in Rust.
                    if let data = try? await item?.loadTransferable(type: Data.self), let image = UIImage(data: data) {
                        photo = image.jpegData(compressionQuality: 0.9)
                    }
                }
            }
            .safeAreaInset(edge: .bottom) { Text(model.status).font(.footnote) }
        }
        .task { await model.start() }
    }
}

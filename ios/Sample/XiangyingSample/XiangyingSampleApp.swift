// A tiny SwiftUI sample: enrol with a sync server using a code from its administrator, start
// the sync engine with its iOS wiring (NWPathMonitor, scene phase, BGAppRefreshTask), show the
// engine's state with the outbox and upload counts and the last success, pick a category from
// the catalogue, report a problem with a photo, watch the inbox refresh, and sync by hand with
// progress. Add it to an Xcode iOS app target that depends on the Xiangying package, with
// `cn.xiangying.sample.refresh` under BGTaskSchedulerPermittedIdentifiers in its Info.plist and
// the "Background fetch" background mode on (see ../../README.md).
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

    func report(_ text: String, category: String, photo: Data?) async {
        guard let store else { return }
        do {
            _ = try await store.reportWithPhotos(category: category, location: GeoPoint(lon: 0.05, lat: 0.05, datum: .wgs84),
                                                 description: text,
                                                 photos: photo.map { [CameraPhoto(bytes: $0, capture: nil)] } ?? [])
            status = "已上报"
        } catch ApiError.InvalidInput(let field, let problem) {
            status = "\(field): \(problem)"
        } catch ApiError.PhotoRejected(let reason) {
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

    var body: some View {
        Section("同步") {
            HStack {
                Text(display.label).font(.headline)
                Spacer()
                Button("立即同步", action: syncSoon)
            }
            if let detail = display.detail {
                Text(detail).font(.caption)
            }
            Text("待上传 \(display.outbox) · 待传照片 \(display.uploads)")
            Text(display.lastSuccessText())
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
                    SyncSection(display: display) { model.syncSoon() }
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

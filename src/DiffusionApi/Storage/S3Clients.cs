using Amazon.Runtime;
using Amazon.S3;
using DiffusionApi.Options;

namespace DiffusionApi.Storage;

/// <summary>The S3 client for <see cref="S3StorageOptions"/>: region and credentials from the AWS SDK's usual sources.</summary>
public static class S3Clients
{
    public static IAmazonS3 Create(S3StorageOptions options, AWSCredentials? credentials = null)
    {
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
            // Checksums only where S3 requires them: S3-compatible stores do not all accept the SDK's default trailers.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (options.ServiceUrl.Length > 0) config.ServiceURL = options.ServiceUrl;
        return credentials is null ? new AmazonS3Client(config) : new AmazonS3Client(credentials, config);
    }
}
